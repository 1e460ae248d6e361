/** The real wait, for code whose tests inject their own `sleep`. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));
