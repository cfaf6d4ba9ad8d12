import { createLogger } from '@taidon/kit';
import { loadExercisesConfig } from './config.js';
import { startExercises } from './start.js';

// The only file of the exercises service that touches process.*: config, logger, start, listen, graceful close.
const config = loadExercisesConfig();
const logger = createLogger({ service: 'exercises', level: config.LOG_LEVEL });
const service = await startExercises(config, { logger });
await service.app.listen({ host: config.HOST, port: config.PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'close failed');
        process.exit(1);
      },
    );
  });
}
