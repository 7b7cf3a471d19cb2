// GitHub's own @actions/cache, called the way the actions/cache action calls it.
//   node cache.mjs save KEY PATH...               -> prints "RESULT <cacheId>" (-1: not saved)
//   node cache.mjs restore KEY RESTORE_KEYS PATH... -> prints "RESULT <matched key>" or "RESULT " on a miss
//   node cache.mjs lookup KEY RESTORE_KEYS PATH...  -> the same with lookupOnly (nothing downloaded)
// RESTORE_KEYS is comma-separated (may be empty). Paths resolve against GITHUB_WORKSPACE, as on a runner.
import * as cache from '@actions/cache';

const [mode, key, ...rest] = process.argv.slice(2);
process.chdir(process.env.GITHUB_WORKSPACE);
let result;
if (mode === 'save') {
    result = await cache.saveCache(rest, key);
} else if (mode === 'restore' || mode === 'lookup') {
    const [restoreKeys, ...paths] = rest;
    result = await cache.restoreCache(paths, key, restoreKeys ? restoreKeys.split(',') : [], { lookupOnly: mode === 'lookup' });
} else {
    throw new Error(`unknown mode ${mode}`);
}
console.log(`RESULT ${result ?? ''}`);
