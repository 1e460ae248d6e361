/**
 * A write in `folder` refused for want of space, in words with what to do: a full disk (ENOSPC)
 * or a used-up disk quota (EDQUOT); undefined for any other error. For the files a program keeps
 * (state, token store, journal), whose loss a person must hear of in one line.
 */
export function diskFullText(error: unknown, folder: string): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return `the disk of ${folder} is full (ENOSPC): free space there or grow its volume`;
  if (code === 'EDQUOT') return `the disk quota of the user running it is used up in ${folder} (EDQUOT): free space there or raise the quota`;
  return undefined;
}
