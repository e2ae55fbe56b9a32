// Writes oclif.manifest.json next to package.json ("make cli" runs it after
// tsc): the list of commands with their flags, args and help, so that oclif
// loads only the module of the command being run instead of importing every
// command to find it. Generated at build time and gitignored, so it cannot
// go stale against cli/dist.
//
//   node cli/scripts/manifest.mjs [OUT]     (OUT: default ./oclif.manifest.json)
import {writeFileSync, renameSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const out = process.argv[2] ?? join(root, 'oclif.manifest.json')
const {Plugin} = await import(join(root, 'node_modules/@oclif/core/lib/index.js'))
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
await plugin.load()
const commands = Object.keys(plugin.manifest.commands)
if (commands.length === 0) throw new Error('no commands found: run tsc first')
writeFileSync(`${out}.tmp`, `${JSON.stringify(plugin.manifest, null, 2)}\n`)
renameSync(`${out}.tmp`, out)
console.log(`oclif manifest: ${commands.length} commands -> ${out}`)
