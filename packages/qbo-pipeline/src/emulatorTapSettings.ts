import type { Emulator } from 'qbo-emulator';

/** tap-quickbooks settings that point at an emulator (its OAuth app, realm and URLs), plus `extra`. */
export function emulatorTapSettings(emulator: Emulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    refresh_token: emulator.currentRefreshToken(),
    realm_id: emulator.realmId,
    base_url: emulator.baseUrl,
    token_url: emulator.tokenUrl,
    ...extra,
  };
}
