import type { Config } from '../config/config.js';
import type { RegistryRecord } from '../registry/metadata.js';
import { openAnchorage } from '../server/anchorage.js';

export interface RegistryCommand {
  action: string;
  name: string | undefined;
  anonymousPull: string | undefined;
  gcUntagged: string | undefined;
}

/** `anchorage registry create|list|update|delete`: works on the data folder, a running server picks changes up. */
export async function registryCommand(config: Config, cmd: RegistryCommand): Promise<void> {
  const app = await openAnchorage(config);
  try {
    const name = (): string => {
      if (!cmd.name) throw new Error(`usage: anchorage registry ${cmd.action} NAME`);
      return cmd.name;
    };
    switch (cmd.action) {
      case 'create': {
        const r = await app.registries.create(name(), { anonymousPull: flag(cmd.anonymousPull) ?? false });
        console.log(`created registry ${r.name}, login server ${r.loginServer}`);
        break;
      }
      case 'list': {
        const all = await app.registries.list();
        if (all.length === 0) console.log('no registries');
        for (const r of all) console.log(describe(r));
        break;
      }
      case 'update': {
        const patch = {
          ...(flag(cmd.anonymousPull) !== undefined ? { anonymousPull: flag(cmd.anonymousPull)! } : {}),
          ...(flag(cmd.gcUntagged) !== undefined ? { gcUntagged: flag(cmd.gcUntagged)! } : {}),
        };
        console.log(describe(await app.registries.update(name(), patch)));
        break;
      }
      case 'delete':
        await app.registries.delete(name());
        console.log(`deleted registry ${name()}; run \`anchorage gc\` to free its storage`);
        break;
      default:
        throw new Error(`unknown registry action ${JSON.stringify(cmd.action)}: use create, list, update or delete`);
    }
  } finally {
    app.close();
  }
}

function describe(r: RegistryRecord): string {
  const settings = [r.anonymousPull ? 'anonymous pull' : '', r.gcUntagged ? 'gc removes untagged manifests' : ''].filter(Boolean);
  return `${r.name}\t${r.loginServer}${settings.length ? `\t${settings.join(', ')}` : ''}`;
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`expected true or false, not ${JSON.stringify(value)}`);
}
