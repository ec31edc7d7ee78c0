#!/usr/bin/env node
'use strict';
console.log('attach-ws: benchmark not built yet');
