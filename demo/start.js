#!/usr/bin/env node
'use strict';
// Placeholder until the demo lands: must not crash.
console.log('attach-ws: demo not built yet');
