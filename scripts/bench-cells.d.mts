export interface RatioCellInput {
  readonly ratio: number;
  readonly min?: number;
  readonly max?: number;
  readonly pairs?: number;
  readonly runs?: number;
  readonly runMin?: number;
  readonly runMax?: number;
}
export function ratioCell(q: RatioCellInput): string;
export function benchCommand(suite: string, repeat?: number): string;
