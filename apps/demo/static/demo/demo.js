// The demo client: the mobile app's flows over the public API, in plain JavaScript.
"use strict";

const API = "/api/v1";
const AUTH = "/_allauth/app/v1";
const store = window.sessionStorage;
const $ = (selector) => document.querySelector(selector);

// h("div.card", {onclick}, child, ...): an element without innerHTML (names come from users).
function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function say(text, ok = false) {
  const el = $("#message");
  el.textContent = text || "";
  el.className = ok ? "ok" : "";
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- tokens ----------------------------------------------------------------------------

async function authPost(path, body) {
  const response = await fetch(AUTH + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  return { response, data };
}

async function refreshTokens() {
  const refresh = store.getItem("refresh");
  if (!refresh) return false;
  const { response, data } = await authPost("/tokens/refresh", { refresh_token: refresh });
  if (!response.ok) return false;
  store.setItem("access", data.data.access_token);
  store.setItem("refresh", data.data.refresh_token);
  return true;
}

// fetch an /api/v1 path with the bearer token; refresh once on 401. Throws on errors with
// the API's own message.
async function api(path, options = {}, retried = false) {
  const headers = { Authorization: `Bearer ${store.getItem("access")}`, ...(options.headers || {}) };
  const response = await fetch(path.startsWith("/") ? API + path : path, { ...options, headers });
  if (response.status === 401 && !retried && (await refreshTokens())) {
    return api(path, options, true);
  }
  if (response.status === 401) {
    signOut("Your session ended: sign in again.");
    throw new Error("not signed in");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((data.error && data.error.message) || `HTTP ${response.status}`);
  }
  return data;
}

// --- sign in ---------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const action = event.submitter && event.submitter.value === "signup" ? "signup" : "login";
  const body = { email: form.email.value, password: form.password.value };
  const { response, data } = await authPost(`/auth/${action}`, body);
  if (!data.meta || !data.meta.access_token) {
    const errors = (data.errors || []).map((e) => e.message).join(" ");
    say(errors || `Sign-in failed (HTTP ${response.status}).`);
    return;
  }
  store.setItem("access", data.meta.access_token);
  store.setItem("refresh", data.meta.refresh_token);
  store.setItem("email", body.email);
  say(action === "signup" ? "Account created, you are signed in." : "Signed in.", true);
  start();
}

function signOut(text) {
  const access = store.getItem("access");
  if (access) {
    fetch(AUTH + "/auth/session", { method: "DELETE", headers: { Authorization: `Bearer ${access}` } });
  }
  store.clear();
  $("#app").hidden = true;
  $("#who").hidden = true;
  $("#signin").hidden = false;
  say(text || "Signed out.", !text);
}

function start() {
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#who").hidden = false;
  $("#who-email").textContent = store.getItem("email") || "";
  loadCloset();
  loadFeed(true);
}

// --- product cards -----------------------------------------------------------------------

function price(product) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: product.currency || "KRW" })
      .format(product.price);
  } catch (_) {
    return `${product.price} ${product.currency || ""}`;
  }
}

function productCard(product, onChange) {
  const feedback = (kind) => async () => {
    try {
      await api(`/products/${product.id}/feedback`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ kind }),
      });
      say(kind === "owned" ? `Noted: you own "${product.name}".` : `"${product.name}" hidden.`, true);
      if (onChange) onChange();
    } catch (error) {
      say(error.message);
    }
  };
  return h("div.card", { dataset: { product: product.id } },
    h("img", { src: product.image_url || "", alt: product.name, loading: "lazy" }),
    h("div.name", {}, product.name),
    h("div.muted", {}, [product.brand, product.shop && product.shop.name].filter(Boolean).join(" · ")),
    h("div.price", {}, price(product)),
    product.similarity ? h("div.muted", {}, `similarity ${product.similarity.toFixed(2)}`) : null,
    product.is_on_air ? h("div.status-ready", {}, "On air now") : null,
    h("div.actions", {},
      product.purchase_url ? h("a", { href: product.purchase_url, target: "_blank", rel: "noopener" }, "Buy") : null,
      h("button", { type: "button", onclick: feedback("owned") }, "I own this"),
      h("button", { type: "button", onclick: feedback("not_interested") }, "Not for me")));
}

// --- closet ------------------------------------------------------------------------------

let closetTimer = null;
let closetBusy = false;

async function addToCloset(event) {
  event.preventDefault();
  const form = event.target;
  const files = Array.from(form.photo.files);
  for (const file of files) {
    const body = new FormData();
    body.append("photo", file);
    if (form.category.value) body.append("category", form.category.value);
    try {
      await api("/closet/items", { method: "POST", body });
    } catch (error) {
      say(`${file.name}: ${error.message}`);
      return;
    }
  }
  say(`${files.length} photo(s) added; they are being analysed.`, true);
  form.reset();
  loadCloset();
}

async function loadCloset() {
  clearTimeout(closetTimer);
  let page;
  try {
    page = await api("/closet/items?page_size=100");
  } catch (error) {
    say(error.message);
    return;
  }
  const list = $("#closet-items");
  list.replaceChildren(...page.results.map((item) => h("li", { dataset: { item: item.id, status: item.status } },
    h("img", { src: item.crop_url || item.photo_url || "", alt: item.name || item.category || "closet item" }),
    h("div", {}, item.category || "?", " · ", h(`span.status-${item.status}`, {}, item.status)),
    item.failure_reason ? h("div.status-failed", {}, item.failure_reason) : null)));
  if (!page.results.length) list.append(h("li.muted", {}, "Nothing yet: add photos of clothes you own."));
  const busy = page.results.some((i) => i.status === "pending" || i.status === "processing");
  if (busy) closetTimer = setTimeout(loadCloset, 1000);
  else if (closetBusy) loadFeed(true); // new owned items change the feed
  closetBusy = busy;
  loadStyle();
}

async function loadStyle() {
  try {
    const style = await api("/me/style");
    $("#style-line").textContent = style.top.length
      ? `· your style: ${style.top.map((s) => s.style).join(", ")} (from ${style.closet_items} item(s))`
      : "";
  } catch (_) { /* the style line is a nicety */ }
}

// --- searches and looks --------------------------------------------------------------------

async function upload(kind, form) {
  const body = new FormData();
  body.append("photo", form.photo.files[0]);
  if (form.category && form.category.value) body.append("category", form.category.value);
  body.append("wait", "8");
  let search = await api(`/${kind}`, { method: "POST", body });
  for (let i = 0; i < 120 && !["ready", "failed"].includes(search.status); i++) {
    await sleep(1000);
    search = await api(`/${kind}/${search.id}`);
  }
  if (kind === "looks" && search.status === "ready" && !search.comparison) {
    search = await api(`/looks/${search.id}`);
  }
  return search;
}

async function runSearch(event) {
  event.preventDefault();
  say("Looking for garments…", true);
  $("#recs").replaceChildren();
  $("#shops").replaceChildren();
  let search;
  try {
    search = await upload("searches", event.target);
  } catch (error) {
    say(error.message);
    return;
  }
  if (search.status !== "ready") {
    say(`The photo could not be analysed: ${search.failure_reason || search.status}`);
    return;
  }
  say(`${search.garments.length} garment(s) found. Tap one.`, true);
  showBoxes(search);
}

// The boxes are in pixels of the upright photo (photo_width × photo_height); the browser
// shows the photo upright too, scaled to fit, so each box scales by the displayed size.
function showBoxes(search) {
  const holder = $("#search-photo");
  const img = h("img", { src: search.photo_url, alt: "search photo" });
  holder.replaceChildren(img);
  holder.dataset.search = search.id;
  const draw = () => {
    holder.querySelectorAll(".box").forEach((b) => b.remove());
    const sx = img.clientWidth / search.photo_width;
    const sy = img.clientHeight / search.photo_height;
    search.garments.forEach((garment) => {
      const [x1, y1, x2, y2] = garment.box;
      const box = h("button.box", {
        type: "button",
        title: garment.category,
        dataset: { garment: garment.id },
        style: { left: `${x1 * sx}px`, top: `${y1 * sy}px`, width: `${(x2 - x1) * sx}px`, height: `${(y2 - y1) * sy}px` },
        onclick: () => selectGarment(garment, box),
      }, h("span", {}, garment.category));
      holder.append(box);
    });
  };
  if (img.complete && img.naturalWidth) draw();
  else img.addEventListener("load", draw);
  window.addEventListener("resize", draw);
}

async function selectGarment(garment, box) {
  document.querySelectorAll(".box.selected").forEach((b) => b.classList.remove("selected"));
  box.classList.add("selected");
  await Promise.all([loadRecommendations(garment), loadShops(garment)]);
}

async function loadRecommendations(garment) {
  const holder = $("#recs");
  holder.replaceChildren(h("p.muted", {}, "Loading…"));
  try {
    const answer = await api(`/garments/${garment.id}/recommendations?limit=8`);
    const styles = (garment.top_styles || []).map((s) => s.style).join(", ");
    holder.replaceChildren(
      h("h3", {}, `Like this ${garment.category}`, styles ? h("span.muted", {}, ` · ${styles}`) : null),
      h("p.muted.left-out", {},
        `${answer.left_out_owned} item(s) you own left out`,
        answer.left_out_dismissed ? `, ${answer.left_out_dismissed} you dismissed` : ""),
      answer.results.length
        ? h("div.cards", {}, answer.results.map((p) => productCard(p, () => loadRecommendations(garment))))
        : h("p.muted", {}, "No products like it in the catalog yet."));
  } catch (error) {
    holder.replaceChildren(h("p.status-failed", {}, error.message));
  }
}

async function loadShops(garment) {
  const holder = $("#shops");
  try {
    const answer = await api(`/garments/${garment.id}/shops`);
    holder.replaceChildren(
      h("h3", {}, "Shops for this style", answer.dominant_style ? h("span.muted", {}, ` · ${answer.dominant_style}`) : null),
      ...answer.shops.map((shop) => h("div.shop", { dataset: { shop: shop.id } },
        h("div", {}, h("b", {}, shop.name), h("span.muted", {}, ` ${Math.round(shop.style_share * 100)}% ${answer.dominant_style}`)),
        h("div.cards", {}, shop.products.map((p) => productCard(p))))));
  } catch (error) {
    holder.replaceChildren(h("p.status-failed", {}, error.message));
  }
}

async function runLook(event) {
  event.preventDefault();
  const holder = $("#look-result");
  holder.replaceChildren(h("p.muted", {}, "Comparing with your closet…"));
  let look;
  try {
    look = await upload("looks", event.target);
  } catch (error) {
    holder.replaceChildren(h("p.status-failed", {}, error.message));
    return;
  }
  if (look.status !== "ready" || !look.comparison) {
    holder.replaceChildren(h("p.status-failed", {}, `The photo could not be analysed: ${look.failure_reason || look.status}`));
    return;
  }
  const garments = Object.fromEntries(look.garments.map((g) => [g.id, g]));
  const share = look.comparison.owned_share;
  holder.replaceChildren(
    h("p.owned-share", {}, `You own ${Math.round(share * 100)}% of this look `,
      h("span.bar", {}, h("i", { style: { width: `${Math.round(share * 100)}%` } }))),
    ...look.comparison.garments.map((row) => {
      const g = garments[row.garment_id] || {};
      return h("div.look-garment", { dataset: { garment: row.garment_id, owned: row.owned } },
        h("img", { src: g.crop_url || "", alt: g.category || "garment" }),
        h("div", {},
          h("div", {}, h("b", {}, g.category || "garment"), " ",
            row.owned ? h("span.owned-yes", {}, "owned") : h("span.owned-no", {}, "missing"),
            row.closest_item_id ? h("span.muted", {}, ` · closest closet item #${row.closest_item_id} (${row.similarity.toFixed(2)})`) : null),
          row.owned ? null : h("div.cards", {}, (row.recommendations.results || []).slice(0, 4).map((p) => productCard(p)))));
    }));
}

// --- feed ----------------------------------------------------------------------------------

let feedPage = 1;

async function loadFeed(reset) {
  if (reset) {
    feedPage = 1;
    $("#feed-items").replaceChildren();
  }
  try {
    const page = await api(`/feed?page=${feedPage}&page_size=12`);
    $("#feed-items").append(...page.results.map((p) => productCard(p, () => loadFeed(true))));
    $("#feed-more").hidden = !page.next;
    feedPage += 1;
  } catch (error) {
    say(error.message);
  }
}

// --- wiring --------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  const form = $("#signin-form");
  if (form) form.addEventListener("submit", signIn);
  $("#signout").addEventListener("click", () => signOut());
  $("#closet-form").addEventListener("submit", addToCloset);
  $("#search-form").addEventListener("submit", runSearch);
  $("#look-form").addEventListener("submit", runLook);
  $("#feed-more").addEventListener("click", () => loadFeed(false));
  if (store.getItem("access")) start();
});
