// A minimal Backstage backend: the catalog plugin only, plus a module that
// reports every processing error, so entities the catalog rejects are visible.
'use strict';

const { createBackend } = require('@backstage/backend-defaults');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(require('./processingErrors'));
backend.start();
