#!/usr/bin/env node
// The `kmodel` command: the CLI image (cli-image.mjs), or the TypeScript sources through tsx where no image can be written.
import { cli_image } from './cli-image.mjs';

const image = await cli_image();
if (image) {
  await import(image.main);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
