// The web client in headless Chromium against the real server (SPEC R-UI-1 to R-UI-3).
// Each test has a server and a browser of its own; a failing test leaves screenshots in
// target/e2e-artifacts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, PASSWORD, Server, VIEWPORTS, logIn, say, signUp } from '../harness.mjs';

/// A 4×4 opaque PNG.
const PNG_4X4 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGM4YRMFRwzEcQA/8hXhzZh4swAAAABJRU5ErkJggg==', 'base64');

/// Runs `body(server, browser)` with a fresh server (with settings `env`) and browser,
/// cleaning both up.
function scenario(name, body, env = {}) {
  test(name, async (t) => {
    const server = await Server.start(env);
    const browser = await Browser.launch();
    try {
      await browser.run(t, () => body(server, browser));
    } finally {
      await server.dispose();
    }
  });
}

scenario('R-ROOM-3, R-NOTE-1, R-WS-2: invite by username, accept from the notification, talk live, kick, then ban', async (server, browser) => {
  const ada = await browser.page('ada');
  const bob = await browser.page('bob', { viewport: VIEWPORTS.phone });
  await signUp(ada, server.url, 'ada');
  await signUp(bob, server.url, 'bob');

  // Ada creates an invite-only room and invites Bob by username from the admin panel.
  await ada.getByLabel('Name', { exact: true }).fill('Planning');
  await ada.getByLabel('Who can join').selectOption({ label: 'Invited people only' });
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Planning' }).waitFor();
  await ada.getByRole('link', { name: 'Manage' }).click();
  await ada.getByLabel('Username to invite').fill('bob');
  await ada.getByRole('button', { name: 'Invite' }).click();
  await ada.getByText('bob is invited.').waitFor();

  // Bob is told live (the badge), and accepts from the notifications page.
  await bob.locator('.topbar .badge').filter({ hasText: '1' }).waitFor();
  await bob.getByRole('link', { name: /Notifications/ }).click();
  await bob.getByText('ada invited you to Planning.').waitFor();
  await bob.getByRole('button', { name: 'Accept invitation' }).click();
  await bob.getByRole('heading', { name: 'Planning' }).waitFor();

  // They talk; each sees the other's messages live, and who is typing.
  await ada.getByRole('link', { name: 'Back to the room' }).click();
  await ada.locator('.members').getByText('bob').waitFor();
  await bob.getByLabel('Message').pressSequentially('Hel');
  await ada.getByText('bob is typing…').waitFor();
  await say(bob, 'Hello from Bob');
  await ada.locator('.messages').getByText('Hello from Bob').waitFor();
  await assert.doesNotReject(ada.getByText('bob is typing…').waitFor({ state: 'detached' }));
  const box = ada.getByLabel('Message');
  await box.fill('Welcome, Bob!');
  await box.press('Shift+Enter');
  await box.pressSequentially('Agenda below.');
  await box.press('Enter');
  await bob.locator('.messages .body').filter({ hasText: /Welcome, Bob!\nAgenda below\./ }).waitFor();

  // Ada kicks Bob: Bob's view says so and the room leaves his list.
  await ada.getByRole('link', { name: 'Manage' }).click();
  await ada.locator('li[data-user="bob"]').getByRole('button', { name: 'Kick' }).click();
  await ada.getByText('bob was removed.').waitFor();
  await bob.getByText('You were removed from this room by an admin.').waitFor();
  await bob.getByRole('link', { name: 'Back to my rooms' }).click();
  await bob.locator('.page').getByText('No rooms yet').waitFor();

  // Invited again, Bob comes back; then Ada bans him and the room disappears for good.
  await ada.getByLabel('Username to invite').fill('bob');
  await ada.getByRole('button', { name: 'Invite' }).click();
  await ada.getByText('bob is invited.').waitFor();
  await bob.getByRole('link', { name: /Notifications/ }).click();
  await bob.getByRole('button', { name: 'Accept invitation' }).click();
  await bob.getByRole('heading', { name: 'Planning' }).waitFor();
  await bob.locator('.messages').getByText('Hello from Bob').waitFor();
  await ada.locator('li[data-user="bob"]').getByRole('button', { name: 'Ban' }).click();
  await ada.getByText('bob is banned.').waitFor();
  await bob.getByText('You were banned from this room.').waitFor();
  await bob.getByRole('link', { name: 'Back to my rooms' }).click();
  await bob.locator('.page').getByText('No rooms yet').waitFor();
  await ada.locator('ul.bans').getByText('bob').waitFor();

  // The history says why; a banned room offers no way back.
  await bob.getByRole('link', { name: 'History' }).click();
  const entry = bob.locator('ul.history li').filter({ hasText: 'You were banned' });
  await entry.waitFor();
  assert.equal(await entry.getByRole('button').count(), 0);

  // Unbanned, Bob is told; the ban list empties.
  await ada.locator('ul.bans li').filter({ hasText: 'bob' }).getByRole('button', { name: 'Unban' }).click();
  await ada.getByText('bob may come back.').waitFor();
  await ada.getByText('Nobody is banned.').waitFor();
  await bob.getByRole('link', { name: /Notifications/ }).click();
  await bob.getByText('ada lifted your ban from Planning.').waitFor();
});

scenario('R-UI-3, R-ACC-4, R-ACC-3: a logged-out visit to /u/… lands on login and returns after it; logging out ends the session', async (server, browser) => {
  const token = await server.account('cleo');
  const { room } = await server.api('POST', '/api/rooms', { token, body: { name: 'Garden', join_policy: 'open' } });
  const page = await browser.page('cleo');
  const deep = `/u/cleo/rooms/${room.id}`;
  await page.goto(server.url + deep);
  await page.waitForURL((url) => url.pathname === '/login');
  await logIn(page, 'cleo');
  await page.waitForURL(server.url + deep);
  await page.getByRole('heading', { name: 'Garden' }).waitFor();

  // Logging out ends the session: a reload does not bring it back.
  await page.getByRole('navigation').getByRole('link', { name: 'cleo' }).click();
  await page.getByRole('heading', { name: 'Your profile' }).waitFor();
  await page.locator('section').getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL((url) => url.pathname === '/login');
  await page.goto(server.url + deep);
  await page.waitForURL((url) => url.pathname === '/login');
  await logIn(page, 'cleo');
  await page.getByRole('heading', { name: 'Garden' }).waitFor();

  // Another user's pages send the visitor to login too.
  await server.account('dora');
  await page.goto(`${server.url}/u/dora/notifications`);
  await page.waitForURL((url) => url.pathname === '/login' && url.search.includes('dora'));
});

scenario('R-UI-2: stopping the server shows the unreachable page; a restart reconnects without losing messages', async (server, browser) => {
  const ada = await browser.page('ada');
  await signUp(ada, server.url, 'ada');
  const bobToken = await server.account('bob');
  await ada.getByLabel('Name', { exact: true }).fill('Lobby');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Lobby' }).waitFor();
  const roomId = ada.url().split('/').pop();
  await server.api('POST', `/api/rooms/${roomId}/join`, { token: bobToken, body: {} });
  for (const body of ['one', 'two']) {
    await server.api('POST', `/api/rooms/${roomId}/messages`, { token: bobToken, body: { body } });
  }
  await ada.locator('.messages').getByText('two', { exact: true }).waitFor();
  await ada.getByLabel('Message').fill('a draft survives');

  await server.stop();
  await ada.getByRole('heading', { name: 'The server cannot be reached' }).waitFor();

  await server.restart();
  // Sent before Ada's tab reconnects: it arrives through the resume.
  await server.api('POST', `/api/rooms/${roomId}/messages`, { token: bobToken, body: { body: 'three' } });
  await ada.getByRole('heading', { name: 'The server cannot be reached' }).waitFor({ state: 'detached', timeout: 20_000 });
  await ada.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
  await ada.locator('.messages').getByText('three', { exact: true }).waitFor();
  await server.api('POST', `/api/rooms/${roomId}/messages`, { token: bobToken, body: { body: 'four' } });
  await ada.locator('.messages').getByText('four', { exact: true }).waitFor();

  const shown = await ada.locator('.messages li[data-seq]').evaluateAll((items) => items.map((li) => li.dataset.seq));
  assert.deepEqual(shown, ['1', '2', '3', '4'], 'every message once, in order');
  assert.equal(await ada.getByLabel('Message').inputValue(), 'a draft survives');
});

scenario('R-MSG-3: scrolling up loads earlier messages until the beginning', async (server, browser) => {
  const token = await server.account('eve');
  const { room } = await server.api('POST', '/api/rooms', { token, body: { name: 'Archive', join_policy: 'open' } });
  for (let i = 1; i <= 120; i++) {
    await server.api('POST', `/api/rooms/${room.id}/messages`, { token, body: { body: `note ${i}` } });
  }
  const page = await browser.page('eve');
  await page.goto(`${server.url}/login?next=/u/eve/rooms/${room.id}`);
  await logIn(page, 'eve');
  await page.locator('.messages').getByText('note 120', { exact: true }).waitFor();
  const count = () => page.locator('.messages li[data-seq]').count();
  assert.equal(await count(), 50);
  await page.locator('.messages').evaluate((list) => (list.scrollTop = 0));
  await page.locator('.messages').getByText('note 70', { exact: true }).waitFor();
  await page.locator('.messages').evaluate((list) => (list.scrollTop = 0));
  await page.locator('.messages').getByText('note 20', { exact: true }).waitFor();
  await page.locator('.messages').evaluate((list) => (list.scrollTop = 0));
  await page.getByText('This is the beginning of the conversation.').waitFor();
  assert.equal(await count(), 120);
});

scenario('R-DM-1, R-MSG-6, R-WS-5: a direct message with a sticker and a colour, its unread count, and presence', async (server, browser) => {
  const ada = await browser.page('ada');
  const bob = await browser.page('bob');
  await signUp(ada, server.url, 'ada');
  await signUp(bob, server.url, 'bob');
  // Bob is looking at his conversations: the new one appears there live, with its unread count.
  await bob.getByRole('link', { name: 'Direct messages' }).click();
  await bob.getByText('No conversations yet').waitFor();
  await ada.getByRole('link', { name: 'Direct messages' }).click();
  await ada.getByLabel('Search people').fill('bo');
  await ada.locator('ul.people li').filter({ hasText: 'bob' }).getByRole('button', { name: 'Message' }).click();
  await ada.getByRole('heading', { name: '@bob' }).waitFor();
  await ada.getByRole('radiogroup', { name: 'Text colour' }).getByRole('radio', { name: 'teal' }).click();
  await say(ada, 'in teal');
  await ada.getByRole('button', { name: 'Sticker' }).click();
  // The picker opens inside the window (above the composer), not below its bottom edge.
  const cat = ada.getByRole('menuitem', { name: 'Send the cat sticker' });
  await cat.waitFor();
  const placed = await cat.boundingBox();
  assert.ok(placed.y >= 0 && placed.y + placed.height <= VIEWPORTS.desktop.height, `the cat sticker is at ${JSON.stringify(placed)}`);
  await cat.click();
  await ada.locator('.messages .sticker').waitFor();

  const conversation = bob.locator('.page').getByRole('link', { name: '@ada' });
  await conversation.waitFor();
  await bob.locator('ul.rooms li').filter({ hasText: '@ada' }).locator('.badge').filter({ hasText: '2' }).waitFor();
  await conversation.click();
  await bob.locator('.messages .body.color-teal').filter({ hasText: 'in teal' }).waitFor();
  assert.match(await bob.locator('.messages .sticker').innerText(), /\( o\.o \)/);

  // R-WS-5: presence follows Bob's connection live.
  await ada.getByRole('link', { name: 'Direct messages' }).click();
  await ada.locator('ul.people li.online').filter({ hasText: 'bob' }).waitFor();
  await bob.context().close();
  await ada.locator('ul.people li:not(.online)').filter({ hasText: 'bob' }).waitFor();
});

scenario('R-MSG-9: reactions are added, counted and taken back, and the other member sees them live', async (server, browser) => {
  const ada = await browser.page('ada');
  const bob = await browser.page('bob', { viewport: VIEWPORTS.phone });
  await signUp(ada, server.url, 'ada');
  await signUp(bob, server.url, 'bob');
  await ada.getByRole('link', { name: 'Direct messages' }).click();
  await ada.getByLabel('Search people').fill('bo');
  await ada.locator('ul.people li').filter({ hasText: 'bob' }).getByRole('button', { name: 'Message' }).click();
  await ada.getByRole('heading', { name: '@bob' }).waitFor();
  await say(ada, 'lunch at noon?');
  await bob.getByRole('link', { name: 'Direct messages' }).click();
  await bob.locator('.page').getByRole('link', { name: '@ada' }).click();
  const bobsCopy = bob.locator('.messages li').filter({ hasText: 'lunch at noon?' });
  await bobsCopy.waitFor();

  // Bob reacts from the picker; Ada sees it live, not marked as hers, and adds hers by a click.
  await bobsCopy.hover();
  await bobsCopy.getByRole('button', { name: 'React' }).click();
  await bobsCopy.getByRole('menuitem', { name: '👍' }).click();
  await bobsCopy.locator('button.reaction.mine').filter({ hasText: '👍 1' }).waitFor();
  const adasCopy = ada.locator('.messages li').filter({ hasText: 'lunch at noon?' });
  const thumbs = adasCopy.locator('button.reaction').filter({ hasText: '👍' });
  await thumbs.filter({ hasText: '👍 1' }).waitFor();
  assert.equal(await thumbs.getAttribute('aria-pressed'), 'false');
  await thumbs.click();
  await adasCopy.locator('button.reaction.mine').filter({ hasText: '👍 2' }).waitFor();
  await bobsCopy.locator('button.reaction.mine').filter({ hasText: '👍 2' }).waitFor();

  // Bob takes his back: one left, Ada's, on both screens.
  await bobsCopy.locator('button.reaction').filter({ hasText: '👍 2' }).click();
  await bobsCopy.locator('button.reaction:not(.mine)').filter({ hasText: '👍 1' }).waitFor();
  await adasCopy.locator('button.reaction.mine').filter({ hasText: '👍 1' }).waitFor();
});

scenario('R-MSG-8, R-MSG-7: a reply quotes its original and jumps to it; Up edits your last message in place, Esc puts it back', async (server, browser) => {
  const ada = await browser.page('ada');
  const bob = await browser.page('bob', { viewport: VIEWPORTS.phone });
  await signUp(ada, server.url, 'ada');
  await signUp(bob, server.url, 'bob');
  await ada.getByLabel('Name', { exact: true }).fill('Lunch');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Lunch' }).waitFor();
  const room = new URL(ada.url()).pathname.split('/').pop();
  const [adaToken, bobToken] = [await server.token('ada'), await server.token('bob')];
  const as = (token, method, path, body) => server.api(method, path, { token, body });
  await say(ada, 'where shall we eat?');
  for (let n = 1; n <= 60; n += 1) {
    await as(adaToken, 'POST', `/api/rooms/${room}/messages`, { body: `filler ${n}` });
  }
  await bob.goto(`${server.url}/u/bob/rooms/${room}`);
  await bob.getByRole('button', { name: 'Join' }).click();
  await bob.locator('.messages').getByText('filler 60').waitFor();

  // Bob answers the latest message from its Reply button; Esc would cancel, Cancel does too.
  const last = bob.locator('.messages li').filter({ hasText: 'filler 60' });
  await last.hover();
  await last.getByRole('button', { name: 'Reply' }).click();
  await bob.locator('.replying').getByText('filler 60').waitFor();
  await bob.getByRole('button', { name: 'Cancel the reply' }).click();
  await bob.locator('.replying').waitFor({ state: 'detached' });
  await last.hover();
  await last.getByRole('button', { name: 'Reply' }).click();
  await bob.getByLabel('Message').fill('the noodle place');
  await bob.getByLabel('Message').press('Enter');
  await bob.locator('.replying').waitFor({ state: 'detached' });
  const reply = ada.locator('.messages li').filter({ hasText: 'the noodle place' });
  await reply.locator('button.quote').filter({ hasText: 'filler 60' }).waitFor();

  // A reply to a message far back: the quote loads history until the original is there.
  const first = (await as(adaToken, 'GET', `/api/rooms/${room}/messages?limit=200`)).items.at(-1);
  assert.equal(first.body, 'where shall we eat?');
  await as(bobToken, 'POST', `/api/rooms/${room}/messages`, { body: 'agreed', reply_to: first.id });
  const quote = ada.locator('.messages li').filter({ hasText: 'agreed' }).locator('button.quote');
  await quote.filter({ hasText: 'where shall we eat?' }).click();
  await ada.locator('.messages li.flash[data-seq="1"]').waitFor();
  // It scrolls smoothly into the middle of the history.
  await ada.waitForFunction(() => {
    const li = document.querySelector('.messages li[data-seq="1"]');
    const box = li.closest('ol').getBoundingClientRect();
    const at = li.getBoundingClientRect();
    return at.top >= box.top && at.bottom <= box.bottom;
  });

  // Up in an empty composer edits Bob's last message; Enter saves, and Ada sees it live.
  const box = bob.getByLabel('Message', { exact: true });
  await box.press('ArrowUp');
  const editor = bob.getByLabel('Edit the message');
  assert.equal(await editor.inputValue(), 'agreed');
  await editor.fill('agreed, at one');
  await editor.press('Enter');
  await editor.waitFor({ state: 'detached' });
  await ada.locator('.messages li').filter({ hasText: 'agreed, at one' }).getByText('(edited)').waitFor();
  // Esc leaves the text as it was.
  await box.press('ArrowUp');
  await editor.fill('never mind');
  await editor.press('Escape');
  await editor.waitFor({ state: 'detached' });
  await bob.locator('.messages').getByText('agreed, at one').waitFor();
  assert.equal(await bob.locator('.messages').getByText('never mind').count(), 0);

  // The original is deleted: the reply says so.
  await as(adaToken, 'DELETE', `/api/rooms/${room}/messages/${first.id}`);
  await bob.reload();
  await bob.locator('.messages li').filter({ hasText: 'agreed, at one' }).locator('button.quote.deleted').getByText('This message was deleted.').waitFor();
});

scenario('R-ACC-8, R-ACC-7: a picture shows beside your messages and in the member list; deleting the account takes the password and leaves your messages to a deleted user', async (server, browser) => {
  const ada = await browser.page('ada');
  const bob = await browser.page('bob', { viewport: VIEWPORTS.phone });
  await signUp(ada, server.url, 'ada');
  await signUp(bob, server.url, 'bob');
  await ada.getByLabel('Name', { exact: true }).fill('Studio');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Studio' }).waitFor();
  const roomUrl = ada.url();
  // A third member, so that the room lives on without Ada (R-ROOM-5).
  const carol = await server.account('carol');
  await server.api('POST', `/api/rooms/${roomUrl.split('/').pop()}/join`, { token: carol, body: {} });
  await say(ada, 'welcome to the studio');
  await bob.goto(roomUrl.replace('/u/ada/', '/u/bob/'));
  await bob.getByRole('button', { name: 'Join' }).click();
  await bob.locator('.messages').getByText('welcome to the studio').waitFor();
  // Without a picture, initials.
  await bob.getByRole('button', { name: /^Members/ }).click();
  await bob.locator('.members li').filter({ hasText: 'ada' }).locator('.avatar .initials').filter({ hasText: 'A' }).waitFor();

  // Ada uploads a picture from her profile; refused types say why.
  await ada.locator('.topbar a.me').click();
  await ada.getByLabel('Picture to upload').setInputFiles({ name: 'x.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
  await ada.getByRole('alert').filter({ hasText: /PNG, JPEG or WebP/ }).waitFor();
  await ada.getByLabel('Picture to upload').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG_4X4 });
  await ada.getByRole('button', { name: 'Remove picture' }).waitFor();
  await ada.locator('.profile-head .avatar img').waitFor();
  await ada.locator('.topbar .me .avatar img').waitFor();
  await bob.reload();
  await bob.getByRole('button', { name: /^Members/ }).click();
  await bob.locator('.members li').filter({ hasText: 'ada' }).locator('.avatar img').waitFor();
  await bob.locator('.messages li').filter({ hasText: 'welcome to the studio' }).locator('.avatar img').waitFor();

  // Ada deletes her account: a wrong password is refused, the right one ends it.
  await ada.getByLabel('Your password').fill('not my password');
  await ada.getByRole('button', { name: 'Delete my account' }).click();
  await ada.getByRole('alert').filter({ hasText: /password/i }).waitFor();
  await ada.getByLabel('Your password').fill(PASSWORD);
  await ada.getByRole('button', { name: 'Delete my account' }).click();
  await ada.getByText('Your account is deleted.').waitFor();
  await bob.locator('.members li').filter({ hasText: 'ada' }).waitFor({ state: 'detached' });
  await bob.reload();
  const kept = bob.locator('.messages li').filter({ hasText: 'welcome to the studio' });
  await kept.locator('.author').filter({ hasText: /^deleted user / }).waitFor();
  await kept.locator('.avatar .initials').filter({ hasText: '?' }).waitFor();
});

scenario('R-MSG-11: search finds messages across rooms and in one room, marks the match, and a result opens the room at that message', async (server, browser) => {
  const ada = await browser.page('ada');
  const phone = await browser.page('ada-phone', { viewport: VIEWPORTS.phone });
  await signUp(ada, server.url, 'ada');
  const token = await server.token('ada');
  const as = (method, path, body) => server.api(method, path, { token, body });
  const design = (await as('POST', '/api/rooms', { name: 'Design', join_policy: 'open' })).room.id;
  const ops = (await as('POST', '/api/rooms', { name: 'Ops', join_policy: 'open' })).room.id;
  await as('POST', `/api/rooms/${design}/messages`, { body: 'The new Logo is ready' });
  for (let n = 1; n <= 80; n += 1) {
    await as('POST', `/api/rooms/${design}/messages`, { body: `chatter ${n}` });
  }
  await as('POST', `/api/rooms/${ops}/messages`, { body: 'logo files are on the share' });

  // Everywhere: both rooms, newest first, the match marked.
  await ada.getByRole('link', { name: 'Search' }).click();
  await ada.getByLabel('Search for').fill('LOGO');
  await ada.getByRole('button', { name: 'Search', exact: true }).click();
  const results = ada.locator('ol.results li');
  await results.first().waitFor();
  assert.deepEqual(await results.locator('.excerpt').allInnerTexts(), ['logo files are on the share', 'The new Logo is ready']);
  assert.deepEqual(await results.locator('mark').allInnerTexts(), ['logo', 'Logo']);
  await ada.getByText('That is every match.').waitFor();

  // A result opens its room at that message, loading history back to it.
  await results.filter({ hasText: 'The new Logo is ready' }).getByRole('link').click();
  await ada.getByRole('heading', { name: 'Design' }).waitFor();
  await ada.locator('.messages li.flash').filter({ hasText: 'The new Logo is ready' }).waitFor();

  // In one room, from its header (on a phone too): only that room's messages.
  await phone.goto(`${server.url}/u/ada/rooms/${ops}`);
  await logIn(phone, 'ada');
  await phone.getByRole('heading', { name: 'Ops' }).waitFor();
  await phone.locator('.room-head').getByRole('link', { name: 'Search' }).click();
  await phone.getByRole('heading', { name: 'Search in Ops' }).waitFor();
  await phone.getByLabel('Search for').fill('logo');
  await phone.getByLabel('Search for').press('Enter');
  await phone.locator('ol.results li').first().waitFor();
  assert.deepEqual(await phone.locator('ol.results .excerpt').allInnerTexts(), ['logo files are on the share']);
  await phone.getByLabel('Search for').fill('nothing like this');
  await phone.getByLabel('Search for').press('Enter');
  await phone.getByText('No messages match.').waitFor();
});

scenario('R-UI-4: a sidebar on every page orders rooms by activity with unread and mention badges and the tab title counts; Ctrl+K jumps; a direct message pops up, and notifies while the tab is hidden', async (server, browser) => {
  const ada = await browser.page('ada');
  const bob = await browser.page('bob', { viewport: VIEWPORTS.phone });
  // Bob's tab is hidden and has allowed notifications: what it would show is recorded.
  await bob.addInitScript(() => {
    window.__notes = [];
    Object.defineProperty(document, 'hidden', { get: () => window.__hidden === true });
    window.Notification = class {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
    };
  });
  await signUp(ada, server.url, 'ada');
  await signUp(bob, server.url, 'bob');
  const [adaToken, bobToken] = [await server.token('ada'), await server.token('bob')];
  const as = (token, method, path, body) => server.api(method, path, { token, body });
  const alpha = (await as(adaToken, 'POST', '/api/rooms', { name: 'Alpha', join_policy: 'open' })).room.id;
  const beta = (await as(adaToken, 'POST', '/api/rooms', { name: 'Beta', join_policy: 'open' })).room.id;
  for (const room of [alpha, beta]) {
    await as(bobToken, 'POST', `/api/rooms/${room}/join`, {});
  }
  await as(adaToken, 'POST', `/api/rooms/${alpha}/messages`, { body: 'alpha first' });

  // On a phone the sidebar is a drawer; the room with the latest message is first.
  await bob.getByRole('button', { name: 'Rooms and conversations' }).click();
  const items = bob.locator('nav.sidebar ul.inbox li');
  const inOrder = (want) => bob.waitForFunction(
    (names) => [...document.querySelectorAll('nav.sidebar ul.inbox .name')].map((n) => n.textContent).join(',') === names, want);
  await inOrder('Alpha,Beta');
  await as(adaToken, 'POST', `/api/rooms/${beta}/messages`, { body: 'beta news' });
  await inOrder('Beta,Alpha');
  await items.first().filter({ hasText: 'Beta' }).locator('.badge').filter({ hasText: '1' }).waitFor();
  await bob.waitForFunction(() => document.title === '(2) Conclave');
  // A mention marks its room.
  await as(adaToken, 'POST', `/api/rooms/${alpha}/messages`, { body: 'over to you @bob' });
  await items.filter({ hasText: 'Alpha' }).locator('.badge.mention').waitFor();
  await bob.waitForFunction(() => window.__notes.length === 0);
  // Opening a room from the drawer closes it and reads the room.
  await items.filter({ hasText: 'Alpha' }).getByRole('link').click();
  await bob.getByRole('heading', { name: 'Alpha' }).waitFor();
  await bob.waitForFunction(() => document.title === '(1) Conclave');

  // A direct message while Bob is elsewhere: a pop-up, which opens the conversation.
  await bob.evaluate(() => { window.__hidden = true; });
  await as(adaToken, 'POST', '/api/dms', { username: 'bob' });
  const dm = (await as(adaToken, 'POST', '/api/dms', { username: 'bob' })).room.id;
  await as(adaToken, 'POST', `/api/rooms/${dm}/messages`, { body: 'are you free at four?' });
  const popup = bob.locator('aside.popup');
  await popup.getByText('ada wrote to you').waitFor();
  await bob.waitForFunction(() => window.__notes.some((n) => n.title === 'ada wrote to you' && n.body === 'are you free at four?'));
  // A mention elsewhere while hidden notifies too.
  await as(adaToken, 'POST', `/api/rooms/${beta}/messages`, { body: '@bob see Beta' });
  await bob.waitForFunction(() => window.__notes.some((n) => n.title === 'ada mentioned you in Beta'));
  await bob.evaluate(() => { window.__hidden = false; });
  await popup.getByRole('button', { name: /ada wrote to you/ }).click();
  await bob.getByRole('heading', { name: '@ada' }).waitFor();
  await bob.locator('.messages').getByText('are you free at four?').waitFor();

  // Ctrl+K on a desktop: type, Enter.
  await ada.keyboard.press('Control+k');
  await ada.getByLabel('Room or person').fill('bet');
  await ada.getByLabel('Room or person').press('Enter');
  await ada.getByRole('heading', { name: 'Beta' }).waitFor();
  await ada.locator('nav.sidebar li.active').filter({ hasText: 'Beta' }).waitFor();
});

scenario('R-UI-4: a "New messages" line where you left off, "Jump to latest" when scrolled up, and on a phone the members behind a button', async (server, browser) => {
  const bob = await browser.page('bob', { viewport: VIEWPORTS.phone });
  await signUp(bob, server.url, 'bob');
  const ada = await server.account('ada');
  const bobToken = await server.token('bob');
  const room = (await server.api('POST', '/api/rooms', { token: ada, body: { name: 'Backlog', join_policy: 'open' } })).room.id;
  await server.api('POST', `/api/rooms/${room}/join`, { token: bobToken, body: {} });
  await server.api('POST', `/api/rooms/${room}/messages`, { token: bobToken, body: { body: 'I read up to here' } });
  for (let n = 1; n <= 40; n += 1) {
    await server.api('POST', `/api/rooms/${room}/messages`, { token: ada, body: { body: `unread ${n}` } });
  }
  await bob.goto(`${server.url}/u/bob/rooms/${room}`);
  await bob.locator('.messages').getByText('unread 40').waitFor();
  // The line sits right above the first message Bob has not read.
  const line = bob.locator('.messages li.new-messages');
  await line.waitFor();
  assert.equal(await line.evaluate((li) => li.nextElementSibling.textContent.includes('unread 1')), true);
  // Scrolled up, a button brings the latest back.
  await bob.locator('.messages').evaluate((ol) => { ol.scrollTop = 0; ol.dispatchEvent(new Event('scroll')); });
  await bob.getByRole('button', { name: 'Jump to latest' }).click();
  await bob.waitForFunction(() => { const ol = document.querySelector('.messages'); return ol.scrollHeight - ol.scrollTop - ol.clientHeight < 5; });
  await bob.getByRole('button', { name: 'Jump to latest' }).waitFor({ state: 'detached' });
  // Members are behind a button on a phone.
  const members = bob.locator('aside.members');
  assert.equal(await members.isVisible(), false);
  await bob.getByRole('button', { name: 'Members (2)' }).click();
  await members.getByText('ada').waitFor();
});

scenario('R-MSG-10, R-MSG-6, R-MSG-9: @ offers the members to mention; a pasted or dropped file is attached; the emoji picker has a full set', async (server, browser) => {
  const ada = await browser.page('ada');
  await signUp(ada, server.url, 'ada');
  for (const name of ['bob', 'bea', 'carl']) {
    await server.account(name);
  }
  await ada.getByLabel('Name', { exact: true }).fill('Crew');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Crew' }).waitFor();
  const room = new URL(ada.url()).pathname.split('/').pop();
  for (const name of ['bob', 'bea', 'carl']) {
    await server.api('POST', `/api/rooms/${room}/join`, { token: await server.token(name), body: {} });
  }
  await ada.locator('.members').getByText('carl').waitFor();

  // Typing @b offers bob and bea; arrows and Enter pick one; the message mentions them.
  const box = ada.getByLabel('Message', { exact: true });
  await box.pressSequentially('thanks @b');
  const offered = ada.locator('ul.mention-suggestions li');
  await offered.first().waitFor();
  assert.deepEqual((await offered.allInnerTexts()).sort(), ['@bea', '@bob']);
  const second = await offered.nth(1).innerText();
  await box.press('ArrowDown');
  await box.press('Enter');
  assert.equal(await box.inputValue(), `thanks ${second} `);
  await box.press('Enter');
  await ada.locator('.messages').getByText(`thanks ${second}`).waitFor();

  // A file pasted into the composer is attached; so is one dropped on it.
  const png = Buffer.from(PNG_4X4).toString('base64');
  await box.evaluate((area, data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, png);
  await ada.locator('.pending-attachment').filter({ hasText: 'pasted.png' }).waitFor();
  await ada.getByRole('button', { name: 'Remove the attachment' }).click();
  await ada.locator('form.composer').evaluate((form) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['plain notes'], 'dropped.txt', { type: 'text/plain' }));
    form.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    form.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  await ada.locator('.pending-attachment').filter({ hasText: 'dropped.txt' }).waitFor();
  await ada.getByRole('button', { name: 'Send', exact: true }).click();
  await ada.locator('.messages .attachment').filter({ hasText: 'dropped.txt' }).waitFor();

  // The picker offers emoji by kind, well beyond the frequent ones.
  const message = ada.locator('.messages li').filter({ hasText: `thanks ${second}` });
  await message.hover();
  await message.getByRole('button', { name: 'React' }).click();
  const kinds = message.locator('.picker [role="group"]');
  assert.deepEqual(await kinds.evaluateAll((groups) => groups.map((g) => g.getAttribute('aria-label'))),
    ['Frequent', 'Faces', 'Gestures', 'Things', 'Nature', 'Symbols']);
  assert.ok(await message.getByRole('menuitem').count() > 100);
  await message.getByRole('menuitem', { name: '🦀' }).click();
  await message.locator('button.reaction.mine').filter({ hasText: '🦀 1' }).waitFor();
});

scenario('R-MSG-1, R-MSG-7, R-UI-3: past 4000 characters the composer counts instead of cutting; a delete asks first; /login goes on when logged in, and says why on another user\'s page', async (server, browser) => {
  const ada = await browser.page('ada');
  await signUp(ada, server.url, 'ada');
  await ada.getByLabel('Name', { exact: true }).fill('Drafts');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Drafts' }).waitFor();

  // Nothing is cut: the counter shows, Send is refused, and shortening it sends it whole.
  const box = ada.getByLabel('Message');
  await box.fill('x'.repeat(4001));
  await ada.getByText('4001 / 4000 characters: shorten it by 1 to send it.').waitFor();
  assert.equal(await box.inputValue(), 'x'.repeat(4001));
  assert.equal(await ada.getByRole('button', { name: 'Send' }).isDisabled(), true);
  await box.press('Backspace');
  await ada.getByText('4000 / 4000 characters').waitFor();
  await box.press('Enter');
  await ada.locator('.messages .body').filter({ hasText: 'x'.repeat(4000) }).waitFor();

  // Deleting asks first; the deleted message does not say "(edited)".
  const asked = new Promise((resolve) => ada.once('dialog', (dialog) => resolve(dialog.message())));
  const message = ada.locator('.messages li').filter({ hasText: 'x'.repeat(40) });
  await message.hover();
  await message.getByRole('button', { name: 'Delete' }).click();
  assert.equal(await asked, 'Delete this message for everyone?');
  const deleted = ada.locator('.messages li.deleted');
  await deleted.getByText('This message was deleted.').waitFor();
  assert.equal(await deleted.getByText('(edited)').count(), 0);

  // Logged in, /login goes to your rooms; another user's page says why it asks for a login.
  await ada.goto(server.url + '/login');
  await ada.waitForURL(`${server.url}/u/ada`);
  await ada.goto(server.url + '/u/bob/notifications');
  await ada.getByText("You are logged in as ada; that page is bob's. Log in as bob to open it.").waitFor();
});

scenario('R-ROOM-9, R-ROOM-4: an invitation is declined from the notifications; after an unban the room offers to join again', async (server, browser) => {
  const ada = await server.account('ada');
  const bobToken = await server.account('bob');
  const bob = await browser.page('bob');
  const post = (token, path, body) => server.api('POST', path, { token, body });
  const { room: hideout } = await post(ada, '/api/rooms', { name: 'Hideout', join_policy: 'invite' });
  await post(ada, `/api/rooms/${hideout.id}/invites`, { username: 'bob' });
  const { room: lobby } = await post(ada, '/api/rooms', { name: 'Lobby', join_policy: 'open' });
  await post(bobToken, `/api/rooms/${lobby.id}/join`, {});
  const bobId = (await server.api('GET', '/api/users/bob', { token: ada })).user.id;
  await post(ada, `/api/rooms/${lobby.id}/bans`, { user_id: bobId });
  await server.api('DELETE', `/api/rooms/${lobby.id}/bans/${bobId}`, { token: ada });

  await bob.goto(server.url + '/login');
  await logIn(bob, 'bob');
  await bob.getByRole('link', { name: /Notifications/ }).click();
  const invitation = bob.locator('ul.notifications li').filter({ hasText: 'ada invited you to Hideout.' });
  await invitation.getByRole('button', { name: 'Decline' }).click();
  await invitation.getByRole('button', { name: 'Accept invitation' }).waitFor({ state: 'detached' });
  assert.ok(!((await invitation.getAttribute('class')) ?? '').includes('unread'), 'the declined invitation is read');

  await bob.locator('ul.notifications li').filter({ hasText: 'lifted your ban' }).getByRole('link', { name: 'Go to the room' }).click();
  await bob.getByText('You are not a member of this room.').waitFor();
  await bob.getByRole('button', { name: 'Join the room' }).click();
  await bob.getByRole('heading', { name: 'Lobby' }).waitFor();
  await bob.getByLabel('Message').waitFor();
});

scenario('R-MSG-10: an @mention reaches the person named as a notification, and a link in a message opens elsewhere', async (server, browser) => {
  const ada = await browser.page('ada');
  const bob = await browser.page('bob');
  await signUp(ada, server.url, 'ada');
  await signUp(bob, server.url, 'bob');
  await ada.getByLabel('Name', { exact: true }).fill('Team');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Team' }).waitFor();
  const roomUrl = ada.url().replace('/u/ada/', '/u/bob/');
  await bob.goto(roomUrl);
  await bob.getByRole('button', { name: 'Join the room' }).click();
  await bob.getByLabel('Message').waitFor();
  await say(ada, '@bob the notes are at https://example.org/notes.');

  const mention = bob.locator('.messages mark.mention');
  await mention.filter({ hasText: '@bob' }).waitFor();
  const link = bob.locator('.messages .body a').filter({ hasText: 'https://example.org/notes' });
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer nofollow');
  assert.equal(await link.getAttribute('target'), '_blank');
  await bob.locator('.topbar .badge').filter({ hasText: '1' }).waitFor();
  // A second message right after the first joins ada's group; the day has one separator.
  await say(ada, 'and one more thing');
  await bob.locator('.messages li.grouped').filter({ hasText: 'and one more thing' }).waitFor();
  assert.equal(await bob.locator('.messages li.day-separator').count(), 1);
  await bob.getByRole('link', { name: /Notifications/ }).click();
  await bob.getByText('ada mentioned you in Team.').waitFor();
});

scenario('R-ACC-7: a user edits their name and changes their password; the new one logs in', async (server, browser) => {
  const ada = await browser.page('ada');
  await signUp(ada, server.url, 'ada');
  await ada.locator('.topbar a.me').click();
  await ada.getByRole('heading', { name: 'Your profile' }).waitFor();
  await ada.getByLabel('First name').fill('Ada');
  await ada.getByLabel('Last name').fill('Lovelace');
  await ada.getByRole('button', { name: 'Save' }).click();
  await ada.getByText('Your name is saved.').waitFor();
  await ada.locator('dl.profile').getByText('Ada Lovelace').waitFor();

  await ada.getByLabel('Current password').fill('not my password');
  await ada.getByLabel(/New password/).fill('a fresh passphrase');
  await ada.getByRole('button', { name: 'Change password' }).click();
  await ada.getByText(/current password: is not your current password/i).waitFor();
  await ada.getByLabel('Current password').fill(PASSWORD);
  await ada.getByRole('button', { name: 'Change password' }).click();
  await ada.getByText('Your password is changed. Your other sessions are logged out.').waitFor();

  await ada.getByRole('button', { name: 'Log out' }).first().click();
  await ada.waitForURL(/\/login/);
  await ada.getByLabel('Username').fill('ada');
  await ada.getByLabel('Password').fill('a fresh passphrase');
  await ada.getByRole('button', { name: 'Log in' }).click();
  await ada.waitForURL(`${server.url}/u/ada`);
});

scenario('R-MSG-6: a picture attached in a room shows up for the other member, and a file type the server refuses says why', async (server, browser) => {
  // A 1×1 PNG.
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7358184000000' + '0049454e44ae426082', 'hex');
  const ada = await browser.page('ada');
  const bob = await browser.page('bob');
  await signUp(ada, server.url, 'ada');
  await signUp(bob, server.url, 'bob');
  await ada.getByLabel('Name', { exact: true }).fill('Gallery');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Gallery' }).waitFor();
  await bob.getByRole('searchbox', { name: 'Search rooms' }).fill('gall');
  await bob.getByRole('button', { name: 'Search' }).click();
  await bob.locator('ul.results li').filter({ hasText: 'Gallery' }).getByRole('button', { name: 'Join' }).click();
  await bob.getByRole('heading', { name: 'Gallery' }).waitFor();

  await ada.getByLabel('File to attach').setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<b>hi</b>') });
  await ada.getByText(/cannot be attached/).waitFor();
  await ada.getByLabel('File to attach').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
  await ada.locator('.pending-attachment').filter({ hasText: 'dot.png' }).waitFor();
  await ada.getByLabel('Message').fill('a tiny picture');
  await ada.getByRole('button', { name: 'Send' }).click();
  await ada.locator('.messages img.attachment-image[alt="dot.png"]').waitFor();
  assert.equal(await ada.locator('.pending-attachment').count(), 0, 'the composer is cleared');

  const picture = bob.locator('.messages li').filter({ hasText: 'a tiny picture' }).locator('img.attachment-image');
  await picture.waitFor();
  assert.equal(await picture.getAttribute('alt'), 'dot.png');
  await bob.waitForFunction((img) => img.complete && img.naturalWidth === 1, await picture.elementHandle());
  await bob.locator('.messages a.attachment-file').filter({ hasText: 'dot.png' }).waitFor();
});

scenario('R-ROOM-3, R-ROOM-6, R-NOTE-2, R-ROOM-7: a request answered by an admin, marked read, a promotion seen live; leaving, and rejoining from history', async (server, browser) => {
  const ada = await browser.page('ada');
  const cleo = await browser.page('cleo', { viewport: VIEWPORTS.phone });
  await signUp(ada, server.url, 'ada');
  await signUp(cleo, server.url, 'cleo');
  await ada.getByLabel('Name', { exact: true }).fill('Book club');
  await ada.getByLabel('Who can join').selectOption({ label: 'On request, answered by an admin' });
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Book club' }).waitFor();

  await cleo.getByRole('searchbox', { name: 'Search rooms' }).fill('book');
  await cleo.getByRole('button', { name: 'Search' }).click();
  await cleo.locator('ul.results li').filter({ hasText: 'Book club' }).getByRole('button', { name: 'Join' }).click();
  await cleo.getByText('Request sent').waitFor();

  await ada.getByRole('link', { name: /Notifications/ }).click();
  await ada.getByText('cleo asks to join Book club.').waitFor();
  await ada.getByRole('link', { name: 'Review requests' }).click();
  await ada.locator('ul.requests li').filter({ hasText: 'cleo' }).getByRole('button', { name: 'Accept' }).click();
  await ada.getByText('cleo joined.').waitFor();

  // Cleo is told, and marks it read: the count in the top bar goes.
  await cleo.getByRole('link', { name: /Notifications/ }).click();
  const accepted = cleo.locator('ul.notifications li.unread').filter({ hasText: 'Your request to join Book club was accepted.' });
  await accepted.getByRole('button', { name: 'Mark read' }).click();
  await cleo.locator('ul.notifications li:not(.unread)').filter({ hasText: 'was accepted' }).waitFor();
  await cleo.locator('.topbar .badge').waitFor({ state: 'detached' });

  // Promoted live: Cleo's room page offers the admin panel as soon as Ada makes her an admin.
  await cleo.getByRole('link', { name: 'Rooms', exact: true }).click();
  await cleo.locator('.page').getByRole('link', { name: 'Book club' }).click();
  await cleo.getByRole('heading', { name: 'Book club' }).waitFor();
  assert.equal(await cleo.getByRole('link', { name: 'Manage' }).count(), 0);
  await ada.locator('li[data-user="cleo"]').getByRole('button', { name: 'Make admin' }).click();
  await ada.getByText('cleo is now an admin.').waitFor();
  await cleo.getByRole('link', { name: 'Manage' }).waitFor();
  // On her phone the member list is behind a button.
  await cleo.getByRole('button', { name: /^Members/ }).click();
  await cleo.locator('.members li').filter({ hasText: 'cleo' }).getByText('admin').waitFor();
  await cleo.getByRole('button', { name: 'Leave' }).click();
  await cleo.locator('.page').getByText('No rooms yet').waitFor();
  await cleo.getByRole('link', { name: 'History' }).click();
  const entry = cleo.locator('ul.history li').filter({ hasText: 'Book club' });
  await entry.getByText('You left').waitFor();
  await entry.getByRole('button', { name: 'Ask to rejoin' }).click();
  await entry.getByText('Request sent').waitFor();
});

scenario('R-UI-2, R-OPS-5: errors from the server reach the user as sentences', async (server, browser) => {
  await server.account('fred');
  const page = await browser.page('visitor');
  await page.goto(server.url + '/login');
  await page.getByLabel('Username').fill('fred');
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: /password/i }).waitFor();

  await page.goto(server.url + '/signup');
  await page.getByLabel('Username').fill('fred');
  await page.getByLabel('Password').fill(PASSWORD_FOR_SIGNUP);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('alert').filter({ hasText: /taken|exists/i }).waitFor();

  await page.goto(server.url + '/login');
  await logIn(page, 'fred');
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
  const token = await server.account('gina');
  await server.api('POST', '/api/rooms', { token, body: { name: 'Vault', join_policy: 'password', password: 'open sesame' } });
  await page.getByRole('searchbox', { name: 'Search rooms' }).fill('vau');
  await page.getByRole('button', { name: 'Search' }).click();
  const vault = page.locator('ul.results li').filter({ hasText: 'Vault' });
  await vault.getByRole('button', { name: 'Join' }).click();
  await vault.getByLabel('Room password').fill('wrong guess');
  await vault.getByRole('button', { name: 'Join' }).click();
  await vault.getByRole('alert').filter({ hasText: /password/i }).waitFor();
  await vault.getByLabel('Room password').fill('open sesame');
  await vault.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('heading', { name: 'Vault' }).waitFor();
});

scenario('R-ACC-3: an expired access token is refreshed once, however many calls it failed, and they go through', async (server, browser) => {
  const ada = await browser.page('ada');
  const refreshes = [];
  ada.on('response', (response) => {
    if (response.url().endsWith('/api/auth/refresh')) {
      refreshes.push(response.status());
    }
  });
  await signUp(ada, server.url, 'ada');
  await server.account('bob');
  refreshes.length = 0;
  // Time itself is what this test is about: the one-second access token has to run out. Its
  // expiry is in whole seconds, so it lives between one and two seconds after it is issued.
  await ada.waitForTimeout(2200);
  // This page asks for several lists at once; each is refused, and one refresh serves them all
  // (refresh tokens rotate: presenting the old one twice would revoke the session).
  await ada.getByRole('link', { name: 'Direct messages' }).click();
  await ada.locator('ul.people li').filter({ hasText: 'bob' }).waitFor();
  await ada.getByRole('link', { name: 'Rooms', exact: true }).click();
  await ada.getByLabel('Name', { exact: true }).fill('Still here');
  // What is being typed survives a refresh in the middle of it: the token runs out again and a
  // search refreshes it (the refreshed user, now online, once redrew the page and wiped the form).
  await ada.waitForTimeout(2200);
  await ada.getByRole('searchbox', { name: 'Search rooms' }).fill('nothing like it');
  await ada.getByRole('button', { name: 'Search' }).click();
  await ada.getByText('No room matches.').waitFor();
  assert.equal(await ada.getByLabel('Name', { exact: true }).inputValue(), 'Still here');
  await ada.getByRole('button', { name: 'Create' }).click();
  await ada.getByRole('heading', { name: 'Still here' }).waitFor();
  assert.ok(refreshes.length >= 2, `the token was refreshed twice: ${refreshes}`);
  assert.ok(refreshes.every((status) => status === 200), `every refresh was accepted: ${refreshes}`);
}, { CONCLAVE_ACCESS_TOKEN_TTL_SECS: '1' });

const PASSWORD_FOR_SIGNUP = 'another long password';
