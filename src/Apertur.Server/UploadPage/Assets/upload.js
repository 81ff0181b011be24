// Apertur upload page. No framework, no build step: this file is served as is.
// What it does: checks each chosen file in the browser (type by magic bytes, size, dimensions read from the header),
// downsizes with a canvas when the session asks for smaller images, uploads a few at a time with real progress,
// retries failed uploads with backoff (and at once when the connection returns), follows the session over SSE,
// and tells a parent window what happened (README, "The upload page").
(() => {
  'use strict';

  const config = JSON.parse(document.getElementById('apertur-page').textContent);
  const CONCURRENCY = 2;            // uploads at once: enough to keep a phone link busy, not enough to starve it
  const MAX_BACKOFF_S = 60;         // retries never stop; they only slow down to one a minute
  const STALL_MS = 45000;           // an upload that sends nothing for this long is cut and retried
  const DECODE_LIMIT = 50e6;        // pixels this page will decode to resize; larger files are refused here
  const THUMB = 160;

  const $ = (id) => document.getElementById(id);
  const main = $('main');
  const api = `${config.apiBase}/upload/${encodeURIComponent(config.sessionId)}`;
  const embedded = window.parent !== window;
  const numbers = new Intl.NumberFormat(config.language, { maximumFractionDigits: 1 });

  const t = (key, values) => {
    let text = config.text[key] ?? key;
    for (const [name, value] of Object.entries(values ?? {})) text = text.split(`{${name}}`).join(String(value));
    return text;
  };

  const post = (type, data) => {
    // The parent already holds this page's URL (the session capability), so the events may go to any origin.
    if (embedded) window.parent.postMessage({ type, data }, '*');
  };

  const formatSize = (bytes) => {
    const fr = config.language === 'fr';
    if (bytes >= 1048576) return `${numbers.format(bytes / 1048576)}\u00a0${fr ? 'Mo' : 'MB'}`;
    if (bytes >= 1024) return `${numbers.format(bytes / 1024)}\u00a0${fr ? 'Ko' : 'KB'}`;
    return `${bytes}\u00a0${fr ? 'o' : 'B'}`;
  };

  // ---- session state -------------------------------------------------------------------------------------------

  const session = {
    maxImages: config.maxImages ?? 0,
    imagesCount: config.imagesCount ?? 0,
    allowedTypes: config.allowedTypes ?? [],
    maxDimension: config.maxDimension ?? 0,
    maxPixels: config.maxPixels ?? 0,
    maxBytes: config.maxBytes ?? 0,
  };
  const passwordKey = `apertur:password:${config.sessionId}`;
  let password = null;
  let closedReason = null;

  const remaining = () => Math.max(0, session.maxImages - session.imagesCount);

  function renderCounter() {
    const counter = $('counter');
    if (!counter) return;
    const n = remaining();
    counter.textContent = n === 0 ? t('remainingNone') : n === 1 ? t('remainingOne') : t('remainingMany', { n });
  }

  const closedViews = {
    full: ['i-done', 'fullTitle', 'fullText'],
    expired: ['i-clock', 'expiredTitle', 'expiredText'],
    notFound: ['i-search', 'notFoundTitle', 'notFoundText'],
  };

  // The session stops taking photos: say why, keep the list of what was sent, and let go of what was not.
  function close(reason) {
    if (closedReason === reason) return;
    const first = closedReason === null;
    closedReason = reason;
    main.dataset.state = reason;
    const [icon, title, text] = closedViews[reason];
    $('closed-icon')?.setAttribute('href', `#${icon}`);
    $('closed-title').textContent = t(title);
    $('closed-text').textContent = t(text);
    $('closed').hidden = false;
    for (const id of ['actions', 'password', 'counter', 'uploader']) if ($(id)) $(id).hidden = true;
    const why = reason === 'full' ? t('reasonSessionFull') : t('reasonSessionExpired');
    for (const item of items) {
      if (['checking', 'preparing', 'waiting'].includes(item.status) || (item.status === 'failed' && item.retryable)) {
        Object.assign(item, { status: 'failed', reason: why, retryable: false, retryAt: 0 });
        render(item);
      }
    }
    if (!first) return;
    if (reason === 'full') post('apertur:session:complete', { sessionId: config.sessionId, imagesCount: session.imagesCount, maxImages: session.maxImages });
    else post('apertur:error', { message: t(`${reason}Title`), code: reason === 'expired' ? 'SESSION_EXPIRED' : 'SESSION_NOT_FOUND' });
  }

  function applySession(detail) {
    session.maxImages = detail.effectiveMaxImages ?? detail.imagesPerSession ?? session.maxImages;
    session.imagesCount = detail.imagesCount ?? session.imagesCount;
    session.allowedTypes = detail.effectiveAllowedMimeTypes ?? session.allowedTypes;
    if (detail.effectiveMaxImageDimension) session.maxDimension = detail.effectiveMaxImageDimension;
    if (detail.effectiveMaxImageSizeBytes) session.maxBytes = Math.min(config.maxBytes || Infinity, detail.effectiveMaxImageSizeBytes);
    renderCounter();
    if (detail.status === 'expired') close('expired');
    else if (detail.status === 'completed' || session.imagesCount >= session.maxImages) close('full');
    else if (detail.password_protected === true && !config.passwordProtected) askPassword();
    else if (detail.password_protected === false && config.passwordProtected) { config.passwordProtected = false; showActions(); }
  }

  // One read at a time; a change announced during a read triggers one more, so the last read is never stale.
  let refreshing = null;
  let refreshAgain = false;
  function refreshSession() {
    if (closedReason === 'notFound' || closedReason === 'expired') return Promise.resolve();
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = fetch(`${api}/session`, { cache: 'no-store' })
      .then(async (res) => {
        if (res.status === 404) close('notFound');
        else if (res.ok) applySession(await res.json());
      })
      .catch(() => { /* offline: the next event or retry refreshes */ })
      .finally(() => {
        refreshing = null;
        if (refreshAgain) {
          refreshAgain = false;
          refreshSession();
        }
      });
    return refreshing;
  }

  let refreshTimer = 0;
  const refreshSoon = () => { clearTimeout(refreshTimer); refreshTimer = setTimeout(refreshSession, 250); };

  // ---- what a file is, from its bytes ----------------------------------------------------------------------------

  const ascii = (bytes, from, to) => String.fromCharCode(...bytes.subarray(from, to));

  // Mirrors the server's sniffer (Uploads/ImageSniffer.cs): the name and the declared type are never trusted.
  function sniff(b) {
    if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { mime: 'image/jpeg', kind: 'JPEG' };
    if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 4) === 'PNG') return { mime: 'image/png', kind: 'PNG' };
    if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return { mime: 'image/webp', kind: 'WebP' };
    if (b.length >= 12 && ascii(b, 4, 8) === 'ftyp') {
      const size = Math.min(new DataView(b.buffer, b.byteOffset).getUint32(0), b.length);
      const brands = [ascii(b, 8, 12)];
      for (let i = 16; i + 4 <= size; i += 4) brands.push(ascii(b, i, i + 4));
      const any = (list) => brands.some((x) => list.includes(x));
      if (any(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs'])) return { mime: 'image/heic', kind: 'HEIC' };
      if (any(['avif', 'avis'])) return { mime: null, kind: 'AVIF' };
      if (any(['mif1', 'msf1'])) return { mime: 'image/heic', kind: 'HEIF' };
      return { mime: null, kind: brands[0] === 'qt  ' ? 'QuickTime' : 'MP4' };
    }
    if (ascii(b, 0, 4) === 'GIF8') return { mime: null, kind: 'GIF' };
    if (ascii(b, 0, 5) === '%PDF-') return { mime: null, kind: 'PDF' };
    if (ascii(b, 0, 2) === 'BM') return { mime: null, kind: 'BMP' };
    if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return { mime: null, kind: 'TIFF' };
    if (ascii(b, 0, 4) === 'PK\x03\x04') return { mime: null, kind: 'ZIP' };
    const text = new TextDecoder().decode(b).replace(/^\ufeff/, '').trimStart().toLowerCase();
    if (text.startsWith('<svg') || (text.startsWith('<') && text.includes('<svg'))) return { mime: null, kind: 'SVG' };
    if (text.startsWith('<!doctype html') || /^<(html|head|body|script)/.test(text)) return { mime: null, kind: 'HTML' };
    if (text.startsWith('<?xml')) return { mime: null, kind: 'XML' };
    return { mime: null, kind: null };
  }

  const read = async (file, from, to) => new Uint8Array(await file.slice(from, to).arrayBuffer());

  // Width and height from the header only: a 30000×30000 PNG is measured, never decoded.
  async function dimensions(file, mime) {
    try {
      if (mime === 'image/png') {
        const b = await read(file, 16, 24);
        const v = new DataView(b.buffer);
        return { w: v.getUint32(0), h: v.getUint32(4) };
      }
      if (mime === 'image/webp') {
        const b = await read(file, 12, 30);
        const v = new DataView(b.buffer);
        const chunk = ascii(b, 0, 4);
        if (chunk === 'VP8 ') return { w: v.getUint16(14, true) & 0x3fff, h: v.getUint16(16, true) & 0x3fff };
        if (chunk === 'VP8L') {
          const bits = v.getUint32(9, true);
          return { w: (bits & 0x3fff) + 1, h: ((bits >>> 14) & 0x3fff) + 1 };
        }
        if (chunk === 'VP8X') {
          const w = 1 + (b[12] | (b[13] << 8) | (b[14] << 16));
          const h = 1 + (b[15] | (b[16] << 8) | (b[17] << 16));
          return { w, h };
        }
        return null;
      }
      if (mime === 'image/jpeg') {
        let offset = 2;
        for (let guard = 0; guard < 512 && offset < file.size; guard++) {
          const m = await read(file, offset, offset + 9);
          if (m.length < 4 || m[0] !== 0xff) return null;
          const marker = m[1];
          if (marker === 0xff) { offset += 1; continue; }
          const length = (m[2] << 8) | m[3];
          const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
          if (isFrame && m.length >= 9) return { w: (m[7] << 8) | m[8], h: (m[5] << 8) | m[6] };
          offset += 2 + length;
        }
      }
    } catch { /* unreadable header: the server decides */ }
    return null;
  }

  const typeAllowed = (mime) => session.allowedTypes.includes(mime);
  const canvasTypes = ['image/jpeg', 'image/png', 'image/webp'];

  // Draws the image smaller until it fits the session's dimension and byte limits; null when it cannot.
  async function downscale(file, mime) {
    let bitmap;
    try { bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' }); } catch { return null; }
    try {
      let scale = Math.min(1, session.maxDimension / Math.max(bitmap.width, bitmap.height));
      let type = canvasTypes.includes(mime) && typeAllowed(mime) ? mime : 'image/jpeg';
      for (let attempt = 0; attempt < 8; attempt++) {
        const w = Math.max(1, Math.round(bitmap.width * scale));
        const h = Math.max(1, Math.round(bitmap.height * scale));
        const canvas = document.createElement('canvas');
        canvas.width = w;
        canvas.height = h;
        const context = canvas.getContext('2d');
        let blob = null;
        if (context) {
          context.imageSmoothingQuality = 'high';
          context.drawImage(bitmap, 0, 0, w, h);
          blob = await new Promise((resolve) => canvas.toBlob(resolve, type, 0.9));
        }
        canvas.width = 0; canvas.height = 0;
        if (blob && blob.size > 0 && blob.size <= session.maxBytes && typeAllowed(blob.type)) {
          return { blob, mime: blob.type, w, h };
        }
        // Too heavy, or this browser wrote another type: try JPEG at this size, then smaller.
        if (type !== 'image/jpeg' && typeAllowed('image/jpeg')) type = 'image/jpeg';
        else scale *= 0.8;
      }
      return null;
    } finally {
      bitmap.close();
    }
  }

  async function thumbnail(blob, dims) {
    try {
      const options = { imageOrientation: 'from-image', resizeQuality: 'medium' };
      if (dims && dims.w > 0 && dims.h > 0) {
        if (dims.w * dims.h > DECODE_LIMIT) return null;
        const k = THUMB / Math.min(dims.w, dims.h);
        if (k < 1) { options.resizeWidth = Math.max(1, Math.round(dims.w * k)); options.resizeHeight = Math.max(1, Math.round(dims.h * k)); }
      } else {
        options.resizeWidth = THUMB;
      }
      const bitmap = await createImageBitmap(blob, options);
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
      bitmap.close();
      const small = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.8));
      return small ? URL.createObjectURL(small) : null;
    } catch {
      return null; // e.g. HEIC in a browser that cannot show it: the tile keeps its placeholder
    }
  }

  // ---- the photo list --------------------------------------------------------------------------------------------

  /** @type {Array<any>} */
  const items = [];
  let nextId = 1;
  let active = 0;
  const seenDeliveries = new Map(); // imageId -> Set(destinationId), also for events that beat the upload's answer

  const icon = (name) => `<svg class="icon" aria-hidden="true"><use href="#${name}"/></svg>`;

  function createTile(item) {
    const li = document.createElement('li');
    li.className = 'tile';
    li.id = `photo-${item.id}`;
    li.innerHTML = `
      <div class="thumb">${icon('i-gallery')}<span class="badge"></span></div>
      <div class="info">
        <p class="name"></p>
        <p class="state" aria-live="off"></p>
        <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"><span></span></div>
        <p class="detail"></p>
      </div>
      <div class="tile-actions">
        <button type="button" class="button secondary small retry">${icon('i-retry')}<span></span></button>
        <button type="button" class="button secondary small remove">${icon('i-remove')}<span></span></button>
      </div>`;
    li.querySelector('.name').textContent = item.name;
    li.querySelector('.bar').setAttribute('aria-label', t('progressLabel', { name: item.name }));
    li.querySelector('.retry span').textContent = t('retry');
    li.querySelector('.remove span').textContent = t('remove');
    li.querySelector('.retry').setAttribute('aria-label', `${t('retry')}: ${item.name}`);
    li.querySelector('.remove').setAttribute('aria-label', `${t('remove')}: ${item.name}`);
    li.querySelector('.retry').addEventListener('click', () => retryNow(item));
    li.querySelector('.remove').addEventListener('click', () => removeItem(item));
    item.el = li;
    $('photos').prepend(li);
    $('photos-section').hidden = false;
  }

  function render(item) {
    const li = item.el;
    li.dataset.status = item.status;
    li.dataset.retrying = String(item.status === 'failed' && item.retryable);
    if (item.imageId) li.dataset.imageId = item.imageId;
    const state = li.querySelector('.state');
    const bar = li.querySelector('.bar');
    const pct = Math.round((item.progress ?? 0) * 100);
    let text;
    let stateIcon = '';
    switch (item.status) {
      case 'checking': text = t('statusChecking'); break;
      case 'preparing': text = t('statusPreparing'); break;
      case 'waiting': text = t('statusWaiting'); break;
      case 'uploading': text = pct >= 100 ? t('statusProcessing') : t('statusUploading', { p: pct }); break;
      case 'done': text = t('statusDone'); stateIcon = icon('i-check'); break;
      case 'delivered': text = t('statusDelivered'); stateIcon = icon('i-delivered'); break;
      default: text = item.reason; stateIcon = icon('i-alert');
    }
    state.innerHTML = stateIcon;
    state.append(text);
    const showBar = ['waiting', 'uploading', 'done', 'delivered'].includes(item.status);
    bar.hidden = !showBar;
    const barPct = item.status === 'done' || item.status === 'delivered' ? 100 : pct;
    bar.firstElementChild.style.width = `${barPct}%`;
    bar.setAttribute('aria-valuenow', String(barPct));

    let detail = '';
    if (item.status === 'failed' && item.retryable) {
      detail = !navigator.onLine ? t('statusWaitingOnline')
        : item.retryAt && item.retryAt > Date.now() ? t('statusRetrying', { s: Math.ceil((item.retryAt - Date.now()) / 1000) })
        : t('statusRetryingNow');
    } else if (item.resized) {
      detail = t('resized', { w: item.resized.w, h: item.resized.h });
    }
    li.querySelector('.detail').textContent = detail;
    li.querySelector('.detail').hidden = detail === '';
    const canRetry = item.status === 'failed' && item.retryable;
    const canRemove = item.status === 'refused' || (item.status === 'failed' && !item.retryable);
    li.querySelector('.retry').hidden = !canRetry;
    li.querySelector('.remove').hidden = !canRemove;
    li.querySelector('.tile-actions').hidden = !canRetry && !canRemove;
    li.dataset.actions = String(canRetry || canRemove);
    li.querySelector('.badge').innerHTML = item.status === 'delivered' ? icon('i-delivered') : item.status === 'done' ? icon('i-check') : '';
  }

  const announce = (text) => { $('announcer').textContent = text; };

  function refuse(item, reason) {
    item.status = 'refused';
    item.reason = reason;
    item.retryable = false;
    render(item);
    announce(t('announceFailed', { name: item.name, reason }));
    post('apertur:error', { message: reason, filename: item.name });
  }

  function fail(item, reason, retryable, retryAfterSeconds) {
    item.status = 'failed';
    item.reason = reason;
    item.retryable = retryable;
    if (retryable) {
      const backoff = Math.min(MAX_BACKOFF_S, 2 ** Math.max(0, item.failures - 1));
      const jittered = backoff * (0.8 + Math.random() * 0.4);
      item.retryAt = Date.now() + Math.max(jittered, retryAfterSeconds ?? 0) * 1000;
    } else {
      item.retryAt = 0;
      post('apertur:error', { message: reason, filename: item.name });
      announce(t('announceFailed', { name: item.name, reason }));
    }
    render(item);
  }

  function removeItem(item) {
    const index = items.indexOf(item);
    if (index >= 0) items.splice(index, 1);
    if (item.thumbUrl) URL.revokeObjectURL(item.thumbUrl);
    item.el.remove();
    $('photos-section').hidden = items.length === 0;
  }

  // Photos on their way: they will take the session's remaining places before this one.
  const queuedBefore = (item) => items.filter((i) => i !== item &&
    (['waiting', 'uploading'].includes(i.status) || (i.status === 'failed' && i.retryable))).length;

  function addFiles(fileList, source) {
    const files = Array.from(fileList ?? []);
    for (const file of files) {
      const item = { id: nextId++, file, name: file.name || 'photo', source, status: 'checking', progress: 0, failures: 0, retryable: false,
        idempotencyKey: newKey() };
      items.push(item);
      createTile(item);
      render(item);
      preparing = preparing.then(() => prepare(item)).catch(() => refuse(item, t('reasonNotPhoto', { kind: t('kindUnknown') })));
    }
  }

  let preparing = Promise.resolve();

  // One file at a time: decoding a photo takes memory a phone does not have twice.
  async function prepare(item) {
    if (item.status !== 'checking') return;
    const file = item.file;
    if (queuedBefore(item) >= remaining()) return refuse(item, t('reasonOverLimit'));
    if (file.size === 0) return refuse(item, t('reasonEmpty'));
    const found = sniff(await read(file, 0, 512));
    if (!found.mime) return refuse(item, t('reasonNotPhoto', { kind: found.kind ?? t('kindUnknown') }));
    if (!typeAllowed(found.mime)) return refuse(item, t('reasonTypeNotAllowed', { kind: found.kind }));
    item.mimeKind = found.kind;

    const dims = await dimensions(file, found.mime);
    let blob = file;
    let mime = found.mime;
    const tooWide = dims && Math.max(dims.w, dims.h) > session.maxDimension;
    const tooMany = dims && session.maxPixels && dims.w * dims.h > session.maxPixels;
    const tooHeavy = file.size > session.maxBytes;
    if (tooWide || tooMany || tooHeavy) {
      if (!dims || !canvasTypes.includes(found.mime)) {
        return refuse(item, tooHeavy
          ? t('reasonTooLarge', { size: formatSize(file.size), max: formatSize(session.maxBytes) })
          : t('reasonTooWide', { w: dims.w, h: dims.h, max: session.maxDimension }));
      }
      if (dims.w * dims.h > DECODE_LIMIT) return refuse(item, t('reasonCannotResize', { w: dims.w, h: dims.h }));
      item.status = 'preparing';
      render(item);
      const smaller = await downscale(file, found.mime);
      if (!smaller) {
        return refuse(item, tooHeavy
          ? t('reasonTooLarge', { size: formatSize(file.size), max: formatSize(session.maxBytes) })
          : t('reasonCannotResize', { w: dims.w, h: dims.h }));
      }
      blob = smaller.blob;
      mime = smaller.mime;
      item.resized = { w: smaller.w, h: smaller.h };
    }
    if (item.status === 'refused' || item.status === 'failed') return; // the session closed meanwhile
    if (queuedBefore(item) >= remaining()) return refuse(item, t('reasonOverLimit'));
    item.blob = blob;
    item.uploadName = mime === found.mime ? item.name : `${item.name.replace(/\.[^.]*$/, '')}.${mime === 'image/png' ? 'png' : mime === 'image/webp' ? 'webp' : 'jpg'}`;
    item.status = 'waiting';
    render(item);
    pump();
    const url = await thumbnail(blob, item.resized ?? dims);
    if (url) {
      item.thumbUrl = url;
      showThumb(item, url);
    } else {
      // A photo this browser cannot draw (HEIC in Chromium): the server's thumbnail once it is uploaded.
      item.noPreview = true;
      if (item.serverThumb) showThumb(item, item.serverThumb);
    }
  }

  function showThumb(item, src) {
    const thumb = item.el.querySelector('.thumb');
    if (thumb.querySelector('img')) return;
    const img = document.createElement('img');
    img.alt = '';
    img.src = src;
    thumb.querySelector('svg.icon')?.remove();
    thumb.prepend(img);
  }

  /** The path of the server's thumbnail link (this page's own origin, whatever origin the server named). */
  function serverThumb(body) {
    try { const u = new URL(body?.thumbnail_url, location.href); return u.pathname + u.search; } catch { return null; }
  }

  // ---- uploading -------------------------------------------------------------------------------------------------

  function pump() {
    if (closedReason || (password === null && config.passwordProtected)) return;
    while (active < CONCURRENCY) {
      const next = items.find((i) => i.status === 'waiting');
      if (!next) break;
      send(next);
    }
  }

  function retryNow(item) {
    if (item.status !== 'failed' || !item.retryable) return;
    item.status = 'waiting';
    item.retryAt = 0;
    render(item);
    pump();
  }

  function retryAllNow() {
    for (const item of items) if (item.status === 'failed' && item.retryable) retryNow(item);
  }

  // crypto.randomUUID needs a secure context; a server reached over plain http on a LAN still gets 128 random bits.
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function send(item) {
    active += 1;
    item.status = 'uploading';
    item.progress = 0;
    item.lastProgressAt = Date.now();
    render(item);

    const form = new FormData();
    form.append('source', item.source);
    form.append('file', item.blob, item.uploadName);
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    let settled = false;
    const settle = (status, body, retryAfter) => {
      if (settled) return;
      settled = true;
      item.xhr = null;
      active -= 1;
      finish(item, status, body, retryAfter);
      pump();
    };
    xhr.open('POST', `${api}/images`);
    if (password) xhr.setRequestHeader('x-session-password', password);
    // The same key on every try of this photo: a retry after a lost answer gets that answer instead of a second copy.
    xhr.setRequestHeader('Idempotency-Key', item.idempotencyKey);
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      item.progress = e.loaded / e.total;
      item.lastProgressAt = Date.now();
      render(item);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: a proxy page */ }
      settle(xhr.status, body, Number(xhr.getResponseHeader('Retry-After')) || undefined);
    });
    xhr.addEventListener('error', () => settle(0));
    xhr.addEventListener('abort', () => settle(0));
    xhr.addEventListener('timeout', () => settle(0));
    xhr.send(form);
  }

  function finish(item, status, body, retryAfter) {
    if (status === 200 || status === 201) {
      item.status = 'done';
      item.progress = 1;
      item.imageId = body?.id;
      item.serverThumb = body?.thumbnail_url ? serverThumb(body) : null;
      if (item.noPreview && item.serverThumb) showThumb(item, item.serverThumb);
      item.destinations = body?.destinations ?? 0;
      item.blob = null; // sent: the bytes are no longer needed here
      session.imagesCount = Math.max(session.imagesCount, (body?.image_index ?? -1) + 1);
      renderCounter();
      markDelivered(item);
      render(item);
      announce(t('announceSent', { name: item.name }));
      post('apertur:image:received', body);
      if (remaining() === 0) refreshSession();
      return;
    }
    if (closedReason) { fail(item, t(closedReason === 'full' ? 'reasonSessionFull' : 'reasonSessionExpired'), false); return; }
    item.failures += 1;
    const code = body?.code;
    if (status === 0) return fail(item, t('reasonNetwork'), true);
    if (status === 429) return fail(item, t('reasonBusy'), true, retryAfter ?? body?.retryAfter);
    if (status >= 500 || status === 408) return fail(item, t('reasonServer', { status }), true, retryAfter);
    switch (code) {
      case 'SESSION_FULL':
        fail(item, t('reasonSessionFull'), false);
        return void refreshSession().then(() => close('full'));
      case 'SESSION_EXPIRED':
        fail(item, t('reasonSessionExpired'), false);
        return close('expired');
      case 'SESSION_NOT_FOUND':
        fail(item, t('notFoundTitle'), false);
        return close('notFound');
      case 'SESSION_PASSWORD_REQUIRED':
      case 'SESSION_PASSWORD_INVALID':
        item.status = 'waiting';
        render(item);
        return askPassword(t('passwordAgain'));
      case 'UNSUPPORTED_MEDIA_TYPE':
        return fail(item, t('reasonNotPhoto', { kind: item.mimeKind ?? t('kindUnknown') }), false);
      case 'FILE_TOO_LARGE':
        return fail(item, t('reasonTooLarge', { size: formatSize(item.blob?.size ?? item.file.size), max: formatSize(session.maxBytes) }), false);
      case 'EMPTY_FILE':
        return fail(item, t('reasonEmpty'), false);
      default:
        return fail(item, t('reasonRejected', { message: body?.message ?? `HTTP ${status}` }), false);
    }
  }

  function markDelivered(item) {
    if (!item.imageId || item.status !== 'done') return;
    const delivered = seenDeliveries.get(item.imageId);
    if (item.destinations > 0 && delivered && delivered.size >= item.destinations) {
      item.status = 'delivered';
      render(item);
      announce(t('announceDelivered', { name: item.name }));
    }
  }

  // Once a second: count down retries, start those that are due, cut uploads that stalled.
  setInterval(() => {
    const now = Date.now();
    for (const item of items) {
      if (item.status === 'failed' && item.retryable) {
        if (navigator.onLine && item.retryAt <= now) retryNow(item);
        else render(item);
      } else if (item.status === 'uploading' && item.xhr && item.progress < 1 && now - item.lastProgressAt > STALL_MS) {
        item.xhr.abort();
      }
    }
  }, 1000);

  window.addEventListener('online', () => { $('offline').hidden = true; retryAllNow(); refreshSession(); });
  window.addEventListener('offline', () => { $('offline').hidden = false; for (const i of items) if (i.status === 'failed') render(i); });
  window.addEventListener('beforeunload', (e) => {
    if (items.some((i) => ['checking', 'preparing', 'waiting', 'uploading'].includes(i.status) || (i.status === 'failed' && i.retryable))) {
      e.preventDefault();
      e.returnValue = t('leaveWarning');
    }
  });

  // ---- live events -----------------------------------------------------------------------------------------------

  function listen(afterBreak = false) {
    if (!('EventSource' in window)) return;
    const source = new EventSource(`${api}/events`);
    let lost = afterBreak;
    source.addEventListener('open', () => {
      // Back after a break (a restarted server, a tunnel): what waited for the connection goes now.
      if (lost) { lost = false; retryAllNow(); }
      refreshSession();
    });
    source.addEventListener('error', () => {
      lost = true;
      if (closedReason === 'notFound' || closedReason === 'expired') source.close();
      // The browser gives up on an answer that is not a stream (a proxy's error page): start over a little later.
      else if (source.readyState === EventSource.CLOSED) setTimeout(() => listen(true), 5000);
    });
    const data = (e) => { try { return JSON.parse(e.data); } catch { return {}; } };
    source.addEventListener('image:ready', refreshSoon);
    source.addEventListener('image:delivered', (e) => {
      const d = data(e);
      if (!d.imageId) return;
      if (!seenDeliveries.has(d.imageId)) seenDeliveries.set(d.imageId, new Set());
      seenDeliveries.get(d.imageId).add(d.destinationId ?? '');
      const item = items.find((i) => i.imageId === d.imageId);
      if (item) markDelivered(item);
    });
    source.addEventListener('session:completed', () => refreshSession().then(() => { if (!closedReason) close('full'); }));
    source.addEventListener('session:updated', refreshSoon);
  }

  // ---- password --------------------------------------------------------------------------------------------------

  function unlock(value) {
    password = value;
    try { sessionStorage.setItem(passwordKey, value); } catch { /* private mode */ }
    showActions();
    $('take').focus();
  }

  function showActions() {
    $('password').hidden = true;
    $('actions').hidden = false;
    main.dataset.state = 'open';
    pump();
  }

  function askPassword(message) {
    password = null;
    try { sessionStorage.removeItem(passwordKey); } catch { /* private mode */ }
    config.passwordProtected = true;
    main.dataset.state = 'password';
    $('actions').hidden = true;
    $('password').hidden = false;
    const error = $('password-error');
    error.textContent = message ?? '';
    error.hidden = !message;
    $('password-input').focus();
  }

  async function verify(value) {
    const res = await fetch(`${api}/verify-password`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: value }),
    });
    if (res.status === 429) return { tooMany: Number(res.headers.get('Retry-After')) || 60 };
    if (res.status === 404) { close('notFound'); return { valid: false }; }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  }

  function setupPassword() {
    const form = $('password');
    const input = $('password-input');
    $('password-show').addEventListener('change', (e) => { input.type = e.target.checked ? 'text' : 'password'; });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const error = $('password-error');
      const button = form.querySelector('button[type=submit]');
      const value = input.value;
      if (!value) { input.focus(); return; }
      button.disabled = true;
      try {
        const result = await verify(value);
        if (result.valid) { error.hidden = true; unlock(value); return; }
        error.textContent = result.tooMany ? t('passwordTooMany', { s: result.tooMany }) : t('passwordWrong');
      } catch {
        error.textContent = t('passwordNetwork');
      } finally {
        button.disabled = false;
      }
      error.hidden = false;
      input.select();
    });
    // A password given earlier in this tab is checked again rather than asked for again.
    let saved = null;
    try { saved = sessionStorage.getItem(passwordKey); } catch { /* private mode */ }
    if (saved) verify(saved).then((r) => { if (r.valid) unlock(saved); }).catch(() => {});
    else if (config.passwordProtected) input.focus();
  }

  // ---- start -----------------------------------------------------------------------------------------------------

  if (['full', 'expired', 'notFound'].includes(config.state)) {
    close(config.state);
    return;
  }
  $('take').addEventListener('click', () => $('camera-input').click());
  $('pick').addEventListener('click', () => $('gallery-input').click());
  for (const [id, source] of [['camera-input', 'camera'], ['gallery-input', 'gallery']]) {
    $(id).addEventListener('change', (e) => {
      addFiles(e.target.files, source);
      e.target.value = ''; // the same photo can be chosen again
    });
  }
  setupPassword();
  if (!navigator.onLine) $('offline').hidden = false;
  listen();
  // The server's clock says when the session ends; the page closes then even if nothing else tells it.
  if (config.expiresInMs > 0 && config.expiresInMs < 2 ** 31 - 1) setTimeout(refreshSession, config.expiresInMs + 500);
})();
