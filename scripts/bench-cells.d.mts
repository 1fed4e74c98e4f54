import type { RatioResult } from '../src/bench/harness.js';

/** The fields of a target's result that its table cell shows. */
export type RatioCellInput = Pick<RatioResult, 'ratio' | 'min' | 'max' | 'pairs' | 'runs' | 'runMin' | 'runMax'>;
export function ratioCell(q: RatioCellInput): string;
export function benchCommand(suite: string, repeat?: number): string;
