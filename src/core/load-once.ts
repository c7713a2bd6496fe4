// A value loaded on first use and shared by every caller after, for modules or objects too costly
// to set up at start-up when they may never be needed.

/** `load` runs on the first call and its promise serves every call; a failed load runs again on the next call. */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((err: unknown) => {
      loaded = undefined;
      throw err;
    }));
}
