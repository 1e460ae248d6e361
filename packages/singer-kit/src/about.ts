import { settingsJsonSchema, envName, type SettingSpec } from './settings.js';

export const ABOUT_FORMATS = ['text', 'json', 'markdown'] as const;
export type AboutFormat = (typeof ABOUT_FORMATS)[number];

export interface AboutInfo {
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly capabilities: readonly string[];
  readonly settings: readonly SettingSpec[];
  readonly envPrefix: string;
}

/** `--about` output, SDK-compatible in its JSON form (name, description, version, capabilities, settings). */
export function formatAbout(info: AboutInfo, format: AboutFormat): string {
  if (format === 'json') {
    return JSON.stringify(
      {
        name: info.name,
        description: info.description,
        version: info.version,
        capabilities: info.capabilities,
        settings: settingsJsonSchema(info.settings),
        env_var_prefix: `${info.envPrefix}_`,
      },
      null,
      2,
    );
  }
  if (format === 'markdown') {
    const rows = info.settings.map(
      (s) => `| ${s.name} | ${s.kind} | ${s.required ? 'yes' : 'no'} | ${s.default === undefined ? '' : JSON.stringify(s.default)} | ${s.description} |`,
    );
    return [
      `# ${info.name}`,
      '',
      info.description,
      '',
      `Version: ${info.version}`,
      '',
      '## Capabilities',
      '',
      ...info.capabilities.map((c) => `- ${c}`),
      '',
      '## Settings',
      '',
      '| Setting | Kind | Required | Default | Description |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      `Every setting can also be set with \`${info.envPrefix}_<SETTING>\`, and read from a file with \`${info.envPrefix}_<SETTING>_FILE\`.`,
    ].join('\n');
  }
  return [
    `${info.name} ${info.version}: ${info.description}`,
    `capabilities: ${info.capabilities.join(', ')}`,
    'settings:',
    ...info.settings.map((s) => `  ${s.name} (${s.kind}${s.required ? ', required' : ''}; env ${envName(info.envPrefix, s.name)}): ${s.description}`),
  ].join('\n');
}
