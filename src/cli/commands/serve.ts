import { Command } from 'commander';
import { unknownVariableWarnings } from '../../config/config.js';
import { EXIT, configOf, showAllSettings, warn, withSettingOptions } from '../context.js';

export function serveCommand(): Command {
  return showAllSettings(
    withSettingOptions(new Command('serve'))
      .description('run the service: HTTPS on port 4433 with the embedded SQLite database by default')
      .action(async (_options, command: Command) => {
        // Loaded here so the other commands start without the HTTP stack.
        const { startService } = await import('../../server.js');
        const service = await startService(configOf(command), { adminPassword: process.env.RBAC_ADMIN_PASSWORD, warnings: unknownVariableWarnings(process.env) });
        // SIGTERM (systemd, a rolling restart) stops after shutdown-grace-period, in
        // which the status routes answer 503 so balancers take the instance out;
        // SIGINT (Ctrl-C at a terminal) stops at once, and so does a second signal.
        let closing = false;
        const shutdown = (signal: string) => {
          if (closing) {
            service.endGracePeriod();
            return;
          }
          closing = true;
          service.app.log.info({ signal }, 'shutting down');
          (signal === 'SIGTERM' ? service.stop() : service.close()).then(
            () => process.exit(EXIT.ok),
            () => process.exit(EXIT.failure),
          );
        };
        process.on('SIGTERM', () => shutdown('SIGTERM'));
        process.on('SIGINT', () => shutdown('SIGINT'));
        // Announced once the signals are handled: whoever waits for this line may stop the service at once.
        warn(`rbac service running at ${service.url}${service.certPath ? ` (certificate: ${service.certPath})` : ''}`);
      }),
  );
}
