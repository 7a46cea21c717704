import { spawn } from 'node:child_process';

/**
 * Opens a URL in the desktop's browser (`open` on macOS, `xdg-open` elsewhere). Resolves once the
 * opener started; rejects when it cannot be started (e.g. not installed).
 */
export function openInBrowser(url: string): Promise<void> {
  const command = process.platform === 'darwin' ? 'open' : 'xdg-open';
  return new Promise((resolve, reject) => {
    const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
    child.once('error', (error) => reject(new Error(`${command} could not be started (${error.message})`)));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
