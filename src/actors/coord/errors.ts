/**
 * ZooKeeper's error codes (KeeperException.Code), the values its client wire protocol carries in
 * the reply header's `err` field. Troupe uses the same numbers everywhere in the coordination
 * service — in the data tree, in replies to native clients and on the wire — so a code never
 * needs translating. README: "Errors".
 */
export const Code = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;

export type CodeName = keyof typeof Code;
export type ErrorCode = (typeof Code)[CodeName];

const names = new Map<number, CodeName>(Object.entries(Code).map(([k, v]) => [v, k as CodeName]));

/** The name of a code (`NONODE`), or `UNKNOWN(n)` for a number ZooKeeper does not define. */
export function codeName(code: number): string {
  return names.get(code) ?? `UNKNOWN(${code})`;
}

/** An expected failure as a value (STYLE.md "Errors a caller can act on"). */
export interface CoordError {
  readonly code: ErrorCode;
  readonly message: string;
}

export function coordError(code: ErrorCode, message: string): CoordError {
  return { code, message };
}

/** Thrown by the native client for a failed operation; `code` is ZooKeeper's number. */
export class CoordClientError extends Error {
  override readonly name = 'CoordClientError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${codeName(code)}: ${message}`);
  }
}
