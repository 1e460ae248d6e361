import { describe, expect, it } from 'vitest';
import { diskFullText } from './diskFull.js';

const failed = (code: string) => Object.assign(new Error(`${code}: …`), { code });

describe('diskFullText', () => {
  it('names the folder whose disk is full or whose quota is used up, with what to do', () => {
    expect(diskFullText(failed('ENOSPC'), '/app/state')).toBe('the disk of /app/state is full (ENOSPC): free space there or grow its volume');
    expect(diskFullText(failed('EDQUOT'), '/app/state')).toBe(
      'the disk quota of the user running it is used up in /app/state (EDQUOT): free space there or raise the quota',
    );
  });

  it('is nothing for any other failure', () => {
    expect(diskFullText(failed('EACCES'), '/app/state')).toBeUndefined();
    expect(diskFullText(new Error('no code'), '/app/state')).toBeUndefined();
    expect(diskFullText(undefined, '/app/state')).toBeUndefined();
  });
});
