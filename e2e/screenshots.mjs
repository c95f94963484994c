// Screenshots of every page of the web client, at desktop and phone width (light and dark),
// against a real server with a small scene set up through the API.
// Usage: node e2e/screenshots.mjs [output folder]   (default: target/screenshots)

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Browser, Server, VIEWPORTS, logIn } from './harness.mjs';

const out = resolve(process.argv[2] ?? 'target/screenshots');
mkdirSync(out, { recursive: true });

const server = await Server.start();
try {
  const [ada, bob, cleo, dan] = await Promise.all(['ada', 'bob', 'cleo', 'dan'].map((name) => server.account(name)));
  const post = (token, path, body) => server.api('POST', path, { token, body });
  const { room } = await post(ada, '/api/rooms', { name: 'Design review', topic: 'Weekly critique, Fridays at 10', join_policy: 'request' });
  await post(ada, `/api/rooms/${room.id}/invites`, { username: 'bob' });
  await post(bob, `/api/rooms/${room.id}/join`, {});
  await post(ada, `/api/rooms/${room.id}/invites`, { username: 'dan' });
  await post(dan, `/api/rooms/${room.id}/join`, {});
  await post(cleo, `/api/rooms/${room.id}/join`, {});
  const lines = [
    [ada, { body: 'Morning! The new onboarding mock-ups are in the shared folder.' }],
    [bob, { body: 'Looks great. The colour contrast on step 3 is a bit low.', color: 'orange' }],
    [ada, { body: 'Good catch, I will bump it.\nAnything else before Friday?' }],
    [dan, { body: '', sticker: 'thumbs_up' }],
    [bob, { body: 'Ship it', color: 'green' }],
    [bob, { body: 'Merging after lunch.' }],
  ];
  const sent = [];
  for (const [token, body] of lines) {
    sent.push((await post(token, `/api/rooms/${room.id}/messages`, body)).message);
  }
  // A reply with a little Markdown (R-MSG-8).
  await post(dan, `/api/rooms/${room.id}/messages`, {
    body: '**Agreed.** The contrast fix is `#5f6673` on white:\n> a bit low', reply_to: sent[1].id,
  });
  // Reactions (R-MSG-9): ada's own thumbs-up is marked as hers.
  const react = (token, message, emoji) =>
    server.api('PUT', `/api/rooms/${room.id}/messages/${message.id}/reactions/${encodeURIComponent(emoji)}`, { token });
  await react(bob, sent[0], '👍');
  await react(dan, sent[0], '👍');
  await react(ada, sent[0], '👍');
  await react(dan, sent[0], '🎉');
  await react(ada, sent[4], '🚀');
  await server.api('PUT', `/api/rooms/${room.id}/members/${(await server.api('GET', '/api/users/dan', { token: ada })).user.id}/role`, { token: ada, body: { role: 'admin' } });
  const { room: other } = await post(bob, '/api/rooms', { name: 'Climbing', join_policy: 'open' });
  await post(bob, `/api/rooms/${other.id}/invites`, { username: 'ada' });
  const { room: old } = await post(dan, '/api/rooms', { name: 'Old project', join_policy: 'open' });
  await post(ada, `/api/rooms/${old.id}/join`, {});
  await post(ada, `/api/rooms/${old.id}/leave`, {});
  const { room: dm } = await post(bob, '/api/dms', { username: 'ada' });
  await post(bob, `/api/rooms/${dm.id}/messages`, { body: 'Lunch later?' });

  const shots = [
    ['login', '/login'],
    ['rooms', '/u/ada'],
    ['room', `/u/ada/rooms/${room.id}`],
    ['admin', `/u/ada/rooms/${room.id}/admin`],
    ['dms', '/u/ada/dms'],
    ['notifications', '/u/ada/notifications'],
    ['history', '/u/ada/history'],
    ['profile', '/u/ada/profile'],
    ['person', '/u/ada/people/bob'],
    ['search', '/u/ada/search?q=the'],
  ];
  for (const [width, viewport] of Object.entries(VIEWPORTS)) {
    for (const colorScheme of ['light', 'dark']) {
      const browser = await Browser.launch();
      const page = await browser.page('ada', { viewport, colorScheme });
      await page.goto(server.url + '/login?next=/u/ada');
      await logIn(page, 'ada');
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      for (const [name, path] of shots) {
        if (name === 'login') {
          continue;
        }
        await page.goto(server.url + path);
        await page.waitForLoadState('networkidle');
        await page.locator('.loading').waitFor({ state: 'detached' }).catch(() => {});
        await page.screenshot({ path: join(out, `${name}-${width}-${colorScheme}.png`) });
      }
      const visitor = await browser.page('visitor', { viewport, colorScheme });
      await visitor.goto(server.url + '/login');
      await visitor.getByRole('button', { name: 'Log in' }).waitFor();
      await visitor.screenshot({ path: join(out, `login-${width}-${colorScheme}.png`) });
      await browser.browser.close();
    }
  }
  // The unreachable page, once.
  const browser = await Browser.launch();
  const page = await browser.page('ada');
  await page.goto(server.url + '/login?next=' + encodeURIComponent(`/u/ada/rooms/${room.id}`));
  await logIn(page, 'ada');
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
  await server.stop();
  await page.getByRole('heading', { name: 'The server cannot be reached' }).waitFor();
  await page.screenshot({ path: join(out, 'unreachable-desktop-light.png') });
  await browser.browser.close();
  console.log(`screenshots in ${out}`);
} finally {
  await server.dispose();
}
