import type { Config } from '../config/config.js';
import { openAnchorage } from '../server/anchorage.js';

/**
 * `anchorage keys list|rotate|remove KID`: the identity plane's token keys (RS256) and the registry's (ES256).
 * A running server sees changes at once (both key rings reread the store when it changes). Rotating lets tokens
 * signed before keep verifying until they expire; removing a key (a compromised one) ends them now.
 */
export async function keysCommand(config: Config, action: string, kid: string | undefined): Promise<void> {
  const app = await openAnchorage(config);
  try {
    switch (action) {
      case 'list': {
        const identity = await app.identity.signingKeys();
        for (const k of identity) console.log(`identity\t${k.kid}\tpublished`);
        for (const k of await app.registryKeys.list()) {
          console.log(`registry\t${k.kid}\t${k.signing ? 'signing' : `retired ${k.retiredAt!.toISOString()}`}`);
        }
        break;
      }
      case 'rotate': {
        const identityKid = await app.identity.rotateSigningKey();
        const registryKid = await app.registryKeys.rotate();
        console.log(`identity tokens are now signed with ${identityKid}, registry tokens with ${registryKid}; tokens signed before verify until they expire`);
        break;
      }
      case 'remove': {
        if (!kid) throw new Error('usage: anchorage keys remove KID');
        const plane = (await app.identity.signingKeys()).some((k) => k.kid === kid) ? 'identity' : 'registry';
        const removed = plane === 'identity' ? await app.identity.removeSigningKey(kid) : await app.registryKeys.remove(kid);
        if (!removed) throw new Error(`no signing key ${kid}; see \`anchorage keys list\``);
        console.log(`removed ${plane} key ${kid}: tokens it signed no longer verify`);
        break;
      }
      default:
        throw new Error(`unknown keys action ${JSON.stringify(action)}: use list, rotate or remove`);
    }
  } finally {
    app.close();
  }
}
