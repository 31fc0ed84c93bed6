#!/usr/bin/env node
// The `kmodel` command: the CLI image's main entry (cli-image.mjs).
import { cli_entry } from './cli-image.mjs';

await cli_entry('main');
