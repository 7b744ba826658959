#!/usr/bin/env node
// The package's bin (`npx triggerfish` from a clone): runs the TypeScript CLI through tsx, no build step.
require('tsx/cjs');
require('./index.ts').runFromProcess();
