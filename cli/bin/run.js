#!/usr/bin/env node
// Entry point of the usbvnet command: oclif finds the commands through the
// "oclif" section of the package.json above this directory (cli/dist/commands).
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
