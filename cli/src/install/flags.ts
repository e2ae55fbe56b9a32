/** Flags install, uninstall and doctor share. */
import {Flags} from '@oclif/core'
import {ROOT_ENV} from './layout.js'

export const rootFlag = Flags.string({
	description: `install into this directory standing for "/" (image builders, tests); default: $${ROOT_ENV} or /`,
	helpValue: 'DIR',
	env: ROOT_ENV,
})

export const kernelFlag = Flags.string({
	char: 'k',
	description: 'kernel release to build, install or check the module for (default: the running one, uname -r)',
	helpValue: 'RELEASE',
})
