// The master keys that seal tenant passwords. CREDENTIALS_KEYS lists them newest first (`id:hex,…`):
// new ciphertexts are sealed with the newest and carry its id (`<id>$<hex>`), older ones stay readable
// with the key they name, and untagged ciphertexts (the reference service's format, and what a single
// CREDENTIALS_KEY writes) open with whichever key authenticates them. Rotation is: put a new key first,
// deploy, run `npm run cli -- keys rotate`, then drop the old key.
import { CredentialError, CredentialKeyError, openCredential, parseCredentialsKey, sealCredential } from './credentials.js';

export interface KeyRing {
  /** Id of the key new ciphertexts are sealed with; undefined for a single untagged key. */
  readonly currentId: string | undefined;
  seal(plaintext: string): string;
  open(sealed: string): string;
  /** True when `sealed` is already under the current key (nothing for a rotation to do). */
  isCurrent(sealed: string): boolean;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** One untagged key (CREDENTIALS_KEY): seals in the reference service's format. */
export function singleKeyRing(key: Buffer): KeyRing {
  return {
    currentId: undefined,
    seal: (plaintext) => sealCredential(plaintext, key),
    open: (sealed) => openCredential(untagged(sealed), key),
    isCurrent: (sealed) => !sealed.includes('$'),
  };
}

export function parseKeyRing(spec: string, variable = 'CREDENTIALS_KEYS'): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const entry of spec
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const [id = '', hex = '', extra] = entry.split(':');
    if (extra !== undefined || !KEY_ID.test(id)) {
      throw new CredentialKeyError(`${variable} must be a comma-separated list of id:hex entries (id: letters, digits, _ or -, up to 32)`);
    }
    if (keys.has(id)) throw new CredentialKeyError(`${variable} names the key id "${id}" twice`);
    keys.set(id, parseCredentialsKey(hex, `${variable} (key "${id}")`));
  }
  const [currentId, currentKey] = [...keys][0] ?? [];
  if (currentId === undefined || currentKey === undefined) throw new CredentialKeyError(`${variable} must list at least one key`);
  return {
    currentId,
    seal: (plaintext) => `${currentId}$${sealCredential(plaintext, currentKey)}`,
    open(sealed) {
      const dollar = sealed.indexOf('$');
      if (dollar >= 0) {
        const key = keys.get(sealed.slice(0, dollar));
        if (!key) throw new CredentialError('authentication_failed', 'the credential is sealed with a key that is not in the key ring');
        return openCredential(sealed.slice(dollar + 1), key);
      }
      // Untagged: the key is whichever one authenticates it.
      for (const key of keys.values()) {
        try {
          return openCredential(sealed, key);
        } catch (err) {
          if (!(err instanceof CredentialError) || err.code !== 'authentication_failed') throw err;
        }
      }
      throw new CredentialError('authentication_failed', 'no key in the key ring opens the credential');
    },
    isCurrent: (sealed) => sealed.startsWith(`${currentId}$`),
  };
}

function untagged(sealed: string): string {
  if (sealed.includes('$')) throw new CredentialError('authentication_failed', 'the credential names a key ring key; set CREDENTIALS_KEYS');
  return sealed;
}
