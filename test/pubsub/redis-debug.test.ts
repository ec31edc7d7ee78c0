import { createHook } from 'node:async_hooks';
import { redisAdapter } from '../../src/pubsub/redis-adapter';
it('debug', async () => {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) { live.set(id, type + ' ' + new Error().stack!.split('\n').slice(2, 9).join('\n')); },
    destroy(id) { live.delete(id); },
  }).enable();
  for (let i = 0; i < 40; i++) {
    const before = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    live.clear();
    const a = redisAdapter({ url: 'redis://127.0.0.1:1' });
    a.attach({ deliver() {}, error() {} });
    await new Promise((r) => setTimeout(r, Math.random() * 300));
    await a.close();
    const after = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    if (after > before) {
      const t0 = Date.now();
      while (process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length > before) await new Promise((r) => setImmediate(r));
      console.log('leak', i, Date.now() - t0, process.getActiveResourcesInfo(), [...live.values()].filter((s) => !s.startsWith('PROMISE')));
      break;
    }
  }
  hook.disable();
}, 60000);
