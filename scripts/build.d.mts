/** Types of the build script, for the TypeScript that calls it (the tests' global setup). */
export declare const isFresh: () => boolean
export declare const build: () => Promise<void>
export declare const ensureBuilt: () => Promise<void>
