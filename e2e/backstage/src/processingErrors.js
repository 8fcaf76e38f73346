// A catalog module that surfaces processing errors.
//
// Without it, an entity that fails validation (a bad metadata.name, a missing
// spec field, a kind not allowed) is simply absent from the catalog. The
// module logs each error with the stable message "catalog processing error"
// and, when e2e.processingErrorsFile is configured, appends one JSON line per
// error to that file so a test can count them.
'use strict';

const fs = require('node:fs');
const {
  coreServices,
  createBackendModule,
} = require('@backstage/backend-plugin-api');
const {
  catalogProcessingExtensionPoint,
} = require('@backstage/plugin-catalog-node/alpha');

function entityRef(entity) {
  const kind = String(entity?.kind ?? 'unknown').toLocaleLowerCase('en-US');
  const namespace = entity?.metadata?.namespace ?? 'default';
  const name = entity?.metadata?.name ?? '<no name>';
  return `${kind}:${namespace}/${name}`;
}

module.exports = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'processing-errors',
  register(env) {
    env.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ catalog, config, logger }) {
        const file = config.getOptionalString('e2e.processingErrorsFile');
        catalog.setOnProcessingErrorHandler(({ unprocessedEntity, errors }) => {
          const ref = entityRef(unprocessedEntity);
          const location =
            unprocessedEntity?.metadata?.annotations?.[
              'backstage.io/managed-by-origin-location'
            ] ?? '';
          for (const error of errors) {
            const message = `${error.name}: ${error.message}`;
            logger.warn(`catalog processing error: ${ref}: ${message}`);
            if (file) {
              const line = JSON.stringify({
                time: new Date().toISOString(),
                entity: ref,
                location,
                target: unprocessedEntity?.spec?.target ?? '',
                error: message,
              });
              fs.appendFileSync(file, `${line}\n`);
            }
          }
        });
      },
    });
  },
});
