import { createHash } from 'node:crypto';
import { Perm, type Acl, type Id } from '../protocol.js';

/**
 * ACLs as ZooKeeper checks them (ZooKeeper programmer's guide, "ZooKeeper access control using
 * ACLs"): a node's ACL lists (perms, scheme:id); a request passes when any entry grants the
 * permission to one of the session's ids. Schemes: `world:anyone`, `digest:user:base64(sha1(
 * user:password))`, `ip:addr[/bits]`, and `auth` (only at create/setACL time: it stands for
 * every id the session authenticated as). README invariant T6.
 */

export const OPEN_ACL_UNSAFE: readonly Acl[] = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];

/** The digest id ZooKeeper stores for `user:password` (DigestAuthenticationProvider). */
export function digestId(userPassword: string): string {
  const colon = userPassword.indexOf(':');
  const user = colon < 0 ? userPassword : userPassword.slice(0, colon);
  return `${user}:${createHash('sha1').update(userPassword, 'utf8').digest('base64')}`;
}

function ipv4(addr: string): number[] | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  const out = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return out.every((n) => n >= 0 && n <= 255) ? out : undefined;
}

/** Whether an `ip` ACL id (`a.b.c.d` or `a.b.c.d/bits`) matches a client address. */
export function ipMatches(aclId: string, clientAddr: string): boolean {
  const [net, bitsText] = aclId.split('/');
  const a = ipv4(net ?? '');
  const b = ipv4(clientAddr.replace(/^::ffff:/, ''));
  if (!a || !b) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!(bits >= 0 && bits <= 32)) return false;
  for (let i = 0; i < 32; i++) {
    if (i >= bits) break;
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if (((a[byte] as number) & mask) !== ((b[byte] as number) & mask)) return false;
  }
  return true;
}

/** Whether an ACL entry's id is well-formed for its scheme (else INVALIDACL). */
export function validAclId(id: Id): boolean {
  switch (id.scheme) {
    case 'world':
      return id.id === 'anyone';
    case 'digest':
      return id.id.split(':').length === 2;
    case 'ip': {
      const [net, bits] = id.id.split('/');
      return ipv4(net ?? '') !== undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= 32));
    }
    case 'auth':
      return true;
    default:
      return false;
  }
}

/** What a session is: its authenticated ids plus its address (for `ip`). */
export interface Principal {
  readonly authIds: readonly Id[];
  readonly address: string;
}

/** Whether `acl` grants `perm` to `who`. An empty ACL grants everything (as ZooKeeper's check does). */
export function aclAllows(acl: readonly Acl[], perm: number, who: Principal): boolean {
  if (acl.length === 0) return true;
  if (who.authIds.some((id) => id.scheme === 'super')) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    const { scheme, id } = entry.id;
    if (scheme === 'world' && id === 'anyone') return true;
    if (scheme === 'ip' && ipMatches(id, who.address)) return true;
    if (who.authIds.some((a) => a.scheme === scheme && a.id === id)) return true;
  }
  return false;
}

/**
 * The ACL to store for a create or setACL: `auth` entries replaced by the session's ids (all of
 * them but `ip`, as ZooKeeper does). Undefined when the list is invalid (INVALIDACL): empty, an
 * unknown scheme, a malformed id, or `auth` with no authenticated id.
 */
export function fixupAcl(acl: readonly Acl[], who: Principal): Acl[] | undefined {
  if (acl.length === 0) return undefined;
  const out: Acl[] = [];
  for (const entry of acl) {
    if (!validAclId(entry.id)) return undefined;
    if ((entry.perms & ~Perm.ALL) !== 0) return undefined;
    if (entry.id.scheme === 'auth') {
      const ids = who.authIds.filter((a) => a.scheme !== 'ip' && a.scheme !== 'super');
      if (ids.length === 0) return undefined;
      for (const id of ids) out.push({ perms: entry.perms, id });
    } else {
      out.push(entry);
    }
  }
  // ZooKeeper drops duplicate entries.
  const seen = new Set<string>();
  return out.filter((e) => {
    const k = `${e.perms}|${e.id.scheme}|${e.id.id}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
