/// <reference lib="dom" />
/**
 * The browser console (local only; see docs/console.md). It talks to the API exactly as a frontend
 * would: supabase-js for Auth and `functions.invoke`, `fetch` for the chat's server-sent events
 * (supabase-js does not stream), and `XMLHttpRequest` for uploads because only it reports upload
 * progress. Every error shows the envelope's `message`, `code` and `request_id`.
 */
import { createClient, type Session } from "@supabase/supabase-js";
import { apiCall, type CallInit, type OperationKey, type Success } from "../../openapi/client.ts";

interface Envelope {
  error?: { code?: string; message?: string; request_id?: string };
}

/** An API error as the envelope states it. */
class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly requestId: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const config = await fetch("/console/config.json").then((r) => r.json()) as {
  anon_key: string;
  fake_checkout_url: string | null;
};
const origin = location.origin;
const supabase = createClient(origin, config.anon_key);
let session: Session | null = null;
let workbenchId = "";
let chatSessionId = "";

// ---- errors --------------------------------------------------------------------------------

function showError(err: unknown) {
  const e = err instanceof ApiError
    ? err
    : new ApiError(err instanceof Error ? err.message : String(err), "", "", 0);
  $("error-message").textContent = e.message;
  $("error-code").textContent = e.code ? `(${e.code}${e.status ? `, ${e.status}` : ""})` : "";
  $("error-request-id").textContent = e.requestId || "–";
  $("error").hidden = false;
  console.error("console error", e.code, e.message, e.requestId);
}
$("error-close").onclick = () => $("error").hidden = true;
function notice(text: string) {
  $("notice").textContent = text;
  $("notice").hidden = false;
}

async function envelopeError(res: Response): Promise<ApiError> {
  const body = await res.json().catch(() => ({})) as Envelope & { message?: string; msg?: string };
  return new ApiError(
    body.error?.message ?? body.message ?? body.msg ?? `${res.status} ${res.statusText}`,
    body.error?.code ?? "",
    body.error?.request_id ?? res.headers.get("x-request-id") ?? "",
    res.status,
  );
}

/**
 * One operation of the API through the typed client generated from docs/openapi.json
 * (`apiCall()` over `supabase.functions.invoke`): the typed body, or the envelope's error thrown.
 */
async function call<K extends OperationKey>(op: K, init?: CallInit<K>): Promise<Success<K>> {
  const r = await apiCall(supabase, op, init);
  if (r.error) throw new ApiError(r.error.message, r.error.code, r.error.request_id, r.status);
  return r.data;
}

/** The rows of a list answer: `items` (the one list envelope), or the old key of one release. */
function rows<T = Record<string, unknown>>(data: Record<string, unknown>): T[] {
  if (Array.isArray(data.items)) return data.items as T[];
  const list = Object.values(data).find(Array.isArray);
  return (list ?? []) as T[];
}

function guard(fn: (ev: Event) => Promise<void>) {
  return (ev: Event) => {
    ev.preventDefault();
    fn(ev).catch(showError);
  };
}

// ---- auth ----------------------------------------------------------------------------------

function credentials() {
  return {
    email: $<HTMLInputElement>("email").value,
    password: $<HTMLInputElement>("password").value,
  };
}
$("sign-up").onclick = guard(async () => {
  const { data, error } = await supabase.auth.signUp(credentials());
  if (error) throw new ApiError(error.message, error.code ?? "auth", "", error.status ?? 0);
  if (!data.session) notice("Check the mail catcher for the confirmation link, then sign in.");
});
$("auth-form").onsubmit = guard(async () => {
  const { error } = await supabase.auth.signInWithPassword(credentials());
  if (error) throw new ApiError(error.message, error.code ?? "auth", "", error.status ?? 0);
});
$("sign-out").onclick = guard(async () => {
  await supabase.auth.signOut();
});
supabase.auth.onAuthStateChange((_event, next) => {
  const was = session?.user.id;
  session = next;
  $("auth").hidden = !!next;
  $("main").hidden = !next;
  $("sign-out").hidden = !next;
  $("who").textContent = next?.user.email ?? "";
  if (next && next.user.id !== was) setTimeout(() => start().catch(showError), 0);
});

async function start() {
  await Promise.all([loadCompanies(), loadInvitations(), loadWorkbenches(), loadBilling()]);
  const params = new URLSearchParams(location.search);
  const paid = params.get("paid");
  if (paid) {
    history.replaceState(null, "", location.pathname);
    await waitForPayment(paid);
  }
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("invitation")) $<HTMLInputElement>("accept-link").value = location.href;
}

// ---- companies and invitations ---------------------------------------------------------------

interface Company {
  id: string;
  name: string;
  role: string;
}
async function loadCompanies() {
  const companies = rows<Company>(await call("GET /companies", { query: { limit: 100 } }));
  $("companies").replaceChildren(
    ...companies.map((c) => el("li", {}, `${c.name} `, el("span", { class: "muted" }, c.role))),
  );
  for (const id of ["invite-company", "workbench-company"]) {
    const select = $<HTMLSelectElement>(id);
    const keep = id === "workbench-company"
      ? [el("option", { value: "" }, "(personal)")]
      : companies.length
      ? []
      : [el("option", { value: "" }, "(no company yet)")];
    select.replaceChildren(...keep, ...companies.map((c) => el("option", { value: c.id }, c.name)));
  }
}
$("company-form").onsubmit = guard(async () => {
  await call("POST /companies", { body: { name: $<HTMLInputElement>("company-name").value } });
  $<HTMLInputElement>("company-name").value = "";
  await loadCompanies();
});
$("invite-form").onsubmit = guard(async () => {
  const company = $<HTMLSelectElement>("invite-company").value;
  const out = await call("POST /companies/{id}/invitations", {
    params: { id: company },
    body: {
      email: $<HTMLInputElement>("invite-email").value,
      role: $<HTMLSelectElement>("invite-role").value as "admin" | "member",
    },
  });
  notice(
    out.invite_link
      ? `Invitation sent: ${out.invite_link}`
      : "Invitation sent (see the mail catcher).",
  );
});
async function loadInvitations() {
  const invitations = rows<{ id: string; company_name?: string; role: string }>(
    await call("GET /invitations"),
  );
  $("invitations").replaceChildren(
    ...(invitations.length
      ? invitations.map((i) => el("li", {}, `${i.company_name ?? i.id} as ${i.role}`))
      : [el("li", { class: "muted" }, "None.")]),
  );
}
$("accept-form").onsubmit = guard(async () => {
  const raw = $<HTMLInputElement>("accept-link").value.trim();
  const hash = new URLSearchParams(raw.includes("#") ? raw.split("#")[1] : raw.replace(/\s+/, "&"));
  const id = hash.get("invitation") ?? raw.split(/\s+/)[0];
  const token = hash.get("token") ?? raw.split(/\s+/)[1];
  await call("POST /invitations/{id}/accept", {
    params: { id: id ?? "" },
    body: { token: token ?? "" },
  });
  notice("Invitation accepted.");
  await Promise.all([loadCompanies(), loadInvitations(), loadWorkbenches()]);
});

// ---- workbenches and members ---------------------------------------------------------------

async function loadWorkbenches(select?: string) {
  const list = rows<{ id: string; name: string; role: string }>(
    await call("GET /workbenches", { query: { limit: 100 } }),
  );
  const sel = $<HTMLSelectElement>("workbench-select");
  sel.replaceChildren(...list.map((w) => el("option", { value: w.id }, `${w.name} (${w.role})`)));
  const want = select ?? (list.some((w) => w.id === workbenchId) ? workbenchId : list[0]?.id);
  if (want) sel.value = want;
  await selectWorkbench(want ?? "");
}
async function selectWorkbench(id: string) {
  workbenchId = id;
  chatSessionId = "";
  $("chat-log").replaceChildren();
  $("files").replaceChildren();
  if (!id) return;
  await Promise.all([loadMembers(), refreshFiles(), loadReports(), loadChat()]);
}
$("workbench-select").onchange = guard(() =>
  selectWorkbench($<HTMLSelectElement>("workbench-select").value)
);
$("workbench-form").onsubmit = guard(async () => {
  const company = $<HTMLSelectElement>("workbench-company").value;
  const row = await call("POST /workbenches", {
    body: {
      name: $<HTMLInputElement>("workbench-name").value,
      ...(company ? { company_id: company } : {}),
    },
  });
  $<HTMLInputElement>("workbench-name").value = "";
  await loadWorkbenches(row.id);
});
async function loadMembers() {
  const members = rows<{ user_id: string; email?: string; role: string }>(
    await call("GET /workbenches/{id}/members", { params: { id: workbenchId } }),
  );
  $("members").replaceChildren(
    ...members.map((m) =>
      el("li", {}, `${m.email ?? m.user_id} `, el("span", { class: "muted" }, m.role))
    ),
  );
}
$("member-form").onsubmit = guard(async () => {
  await call("POST /workbenches/{id}/members", {
    params: { id: workbenchId },
    body: {
      user_id: $<HTMLInputElement>("member-user").value,
      role: $<HTMLSelectElement>("member-role").value as "viewer" | "editor" | "owner",
    },
  });
  await loadMembers();
});

// ---- uploads -------------------------------------------------------------------------------

interface FileRow {
  id: string;
  name?: string;
  file_name?: string;
  status: string;
  progress?: number;
  error_message?: string | null;
}
const uploadRows = new Map<string, HTMLLIElement>();

function fileItem(key: string, name: string): HTMLLIElement {
  let li = uploadRows.get(key);
  if (!li) {
    li = el(
      "li",
      { "data-file": name },
      el("span", { class: "name" }, name),
      " ",
      el("span", { class: "status" }, "queued"),
      el("progress", { max: "1", value: "0" }),
      el("div", { class: "warning message" }),
    );
    uploadRows.set(key, li);
    $("files").append(li);
  }
  return li;
}
function setItem(li: HTMLLIElement, status: string, progress: number, message = "") {
  const badge = li.querySelector(".status")!;
  badge.textContent = status;
  badge.className = `status ${status}`;
  (li.querySelector("progress") as HTMLProgressElement).value = progress;
  li.querySelector(".message")!.textContent = message;
}

/** One file per request, so each has its own upload progress. */
function uploadOne(file: File): Promise<void> {
  const li = fileItem(`upload:${file.name}:${file.size}`, file.name);
  return new Promise((resolve) => {
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${origin}/functions/v1/workbenches/${workbenchId}/files`);
    xhr.setRequestHeader("authorization", `Bearer ${session?.access_token}`);
    xhr.setRequestHeader("apikey", config.anon_key);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) setItem(li, "uploading", e.loaded / e.total / 2);
    };
    xhr.onload = () => {
      let body: Envelope & Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch { /* not JSON */ }
      if (xhr.status >= 400) {
        setItem(li, "error", 0, body.error?.message ?? `upload failed (${xhr.status})`);
        showError(
          new ApiError(
            body.error?.message ?? "Upload failed",
            body.error?.code ?? "",
            body.error?.request_id ?? xhr.getResponseHeader("x-request-id") ?? "",
            xhr.status,
          ),
        );
      } else {
        const [row] = rows<FileRow>(body);
        if (row) {
          uploadRows.delete(`upload:${file.name}:${file.size}`);
          uploadRows.set(row.id, li);
          li.dataset.fileId = row.id;
        }
        setItem(li, row?.status ?? "pending", 0.5);
      }
      resolve();
    };
    xhr.onerror = () => {
      setItem(li, "error", 0, "network error");
      resolve();
    };
    xhr.send(form);
  });
}

let polling = false;
async function refreshFiles(): Promise<FileRow[]> {
  if (!workbenchId) return [];
  const files = rows<FileRow>(
    await call("GET /workbenches/{id}/files", {
      params: { id: workbenchId },
      query: { limit: 100 },
    }),
  );
  for (const f of files) {
    const li = fileItem(f.id, f.name ?? f.file_name ?? f.id);
    li.dataset.fileId = f.id;
    const done = f.status === "indexed" || f.status === "error";
    setItem(li, f.status, done ? 1 : 0.5 + (f.progress ?? 0) / 2, f.error_message ?? "");
  }
  const busy = files.filter((f) => f.status === "pending" || f.status === "processing").length;
  $("files-status").textContent = files.length
    ? `${files.length} file(s), ${busy} still indexing`
    : "No files yet.";
  return files;
}
async function pollFiles() {
  if (polling) return;
  polling = true;
  try {
    for (;;) {
      const files = await refreshFiles();
      if (!files.some((f) => f.status === "pending" || f.status === "processing")) break;
      await sleep(1000);
    }
  } finally {
    polling = false;
  }
}
async function uploadAll(files: FileList | File[]) {
  if (!workbenchId) throw new Error("Create a workbench first.");
  await Promise.all(Array.from(files).map(uploadOne));
  await pollFiles();
}
const drop = $("dropzone");
drop.ondragover = (e) => {
  e.preventDefault();
  drop.classList.add("over");
};
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = guard(async (e) => {
  drop.classList.remove("over");
  await uploadAll((e as DragEvent).dataTransfer?.files ?? []);
});
$("file-input").onchange = guard(async () => {
  const input = $<HTMLInputElement>("file-input");
  await uploadAll(input.files ?? []);
  input.value = "";
});

// ---- chat ----------------------------------------------------------------------------------

interface Source {
  number: number;
  file_name?: string;
  page?: number | null;
  sheet?: string | null;
  row_start?: number | null;
  row_end?: number | null;
  location?: string | null;
  snippet?: string;
  deleted?: boolean;
}

function describe(s: Source): string {
  if (s.deleted) return `[${s.number}] (a deleted file)`;
  const where = [
    s.page ? `page ${s.page}` : "",
    s.sheet ? `sheet ${s.sheet}` : "",
    s.row_start ? `rows ${s.row_start}–${s.row_end ?? s.row_start}` : "",
  ].filter(Boolean).join(", ");
  return `[${s.number}] ${s.file_name ?? ""}${where ? ` · ${where}` : ""}\n\n${s.snippet ?? ""}`;
}

function renderAnswer(box: HTMLElement, text: string, sources: Source[]) {
  const byNumber = new Map(sources.map((s) => [s.number, s]));
  const parts = text.split(/(\[\d+(?:,\s*\d+)*\])/);
  box.replaceChildren(...parts.map((part) => {
    const m = /^\[(\d+(?:,\s*\d+)*)\]$/.exec(part);
    if (!m) return document.createTextNode(part);
    const span = el("span");
    for (const n of m[1]!.split(/,\s*/).map(Number)) {
      const source = byNumber.get(n);
      const button = el(
        "button",
        { class: "cite", type: "button", "data-cite": String(n) },
        `[${n}]`,
      );
      button.onclick = () => {
        $("citation-detail").textContent = source ? describe(source) : `[${n}]`;
        $("citation-detail").hidden = false;
      };
      span.append(button);
    }
    return span;
  }));
}

async function* sseEvents(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
        .join("\n");
      yield { event, data: data ? JSON.parse(data) : null };
    }
  }
}

interface Warning {
  code?: string;
  message?: string;
}
function showWarnings(list: HTMLElement, warnings: Warning[] = []) {
  list.replaceChildren(
    ...warnings.map((w) =>
      el("li", { class: "warning" }, w.message ?? w.code ?? JSON.stringify(w))
    ),
  );
}

/** The caller's active session on the workbench (made when missing) and its latest messages. */
async function loadChat() {
  const forWorkbench = workbenchId;
  const s = await call("POST /chat/sessions", { body: { workbench_id: forWorkbench } });
  const history = rows<
    { role: string; content: string; sources?: Source[]; warnings?: Warning[] }
  >(await call("GET /chat/sessions/{id}/messages", { params: { id: s.id }, query: { limit: 20 } }));
  if (workbenchId !== forWorkbench) return;
  chatSessionId = s.id;
  $("chat-log").replaceChildren(...history.map((m) => {
    if (m.role === "user") return el("div", { class: "msg user" }, m.content);
    const text = el("div", { class: "answer-text" });
    const warnings = el("ul", { class: "warnings list" });
    renderAnswer(text, m.content, m.sources ?? []);
    showWarnings(warnings, m.warnings);
    return el("div", { class: "msg assistant", "data-state": "done" }, text, warnings);
  }));
}

$("chat-form").onsubmit = guard(async () => {
  if (!workbenchId) throw new Error("Create a workbench first.");
  const input = $<HTMLInputElement>("question");
  const content = input.value;
  if (!chatSessionId) {
    const s = await call("POST /chat/sessions", { body: { workbench_id: workbenchId } });
    chatSessionId = s.id;
  }
  input.value = "";
  $("ask").setAttribute("disabled", "");
  const log = $("chat-log");
  log.append(el("div", { class: "msg user" }, content));
  const answer = el("div", { class: "msg assistant", "data-state": "streaming" });
  const text = el("div", { class: "answer-text" });
  const warnings = el("ul", { class: "warnings list" });
  answer.append(text, warnings);
  log.append(answer);
  try {
    const res = await fetch(`${origin}/functions/v1/chat/sessions/${chatSessionId}/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${session?.access_token}`,
        apikey: config.anon_key,
        "content-type": "application/json",
        accept: "text/event-stream",
      },
      body: JSON.stringify({ content }),
    });
    if (!res.ok) throw await envelopeError(res);
    let streamed = "";
    for await (const { event, data } of sseEvents(res)) {
      if (event === "meta") showWarnings(warnings, data.warnings);
      if (event === "delta") {
        streamed += data.text;
        text.textContent = streamed;
      }
      if (event === "error") {
        answer.dataset.state = "error";
        throw new ApiError(
          data.error?.message ?? "The answer failed.",
          data.error?.code ?? "",
          data.error?.request_id ?? "",
          data.status ?? 0,
        );
      }
      if (event === "done") {
        renderAnswer(text, data.message?.content ?? streamed, data.sources ?? []);
        showWarnings(warnings, data.warnings);
        if (data.wallet) showBalance(data.wallet.balance, data.wallet.chat_inference_counter);
        answer.dataset.state = "done";
      }
    }
    await loadBilling();
  } finally {
    $("ask").removeAttribute("disabled");
  }
});

// ---- wallet, plans, purchases ----------------------------------------------------------------

/** The header's and the wallet card's balance and answer counter. */
function showBalance(balance: unknown, counter: unknown) {
  if (balance !== undefined && balance !== null) {
    $("wallet-balance").textContent = String(balance);
    $("balance").textContent = String(balance);
  }
  if (counter !== undefined && counter !== null) {
    $("wallet-counter").textContent = String(counter);
    $("counter").textContent = String(counter);
  }
}

interface Wallet {
  balance: number;
  plan: { name: string } | null;
  chat_inference_counter: number;
  usage: { reason?: string; amount?: number; created_at: string }[];
}
async function loadBilling(): Promise<Wallet> {
  const [wallet, plans, invoices] = await Promise.all([
    call("GET /wallet", { query: { limit: 10 } }) as Promise<Wallet>,
    call("GET /plans"),
    call("GET /billing/invoices", { query: { limit: 10 } }),
  ]);
  $("invoices").replaceChildren(
    ...(invoices.items.length === 0
      ? [el("li", { class: "muted" }, "None yet.")]
      : invoices.items.map((inv) => {
        const li = el(
          "li",
          { "data-invoice": inv.id },
          `${inv.paid_at ? new Date(inv.paid_at).toLocaleString() : ""} · ${inv.provider} · ${
            (inv.amount / 100).toFixed(2)
          } ${inv.currency.toUpperCase()} · ${inv.status} `,
        );
        li.append(el("a", { href: inv.receipt_url, target: "_blank" }, "receipt"));
        return li;
      })),
  );
  showBalance(wallet.balance, wallet.chat_inference_counter);
  $("plan").textContent = wallet.plan?.name ?? "none";
  $("ledger").replaceChildren(
    ...(wallet.usage ?? []).map((u) =>
      el(
        "li",
        {},
        `${new Date(u.created_at).toLocaleString()} · ${u.reason ?? ""} ${u.amount ?? ""}`,
      )
    ),
  );
  const list = rows<
    {
      id: string;
      name: string;
      credits: number;
      price_paise: number | null;
      currency: string;
      contact_sales: boolean;
    }
  >(plans);
  $("plans").replaceChildren(...list.map((p) => {
    const li = el("li", { "data-plan": p.id }, `${p.name}: ${p.credits} credits `);
    if (p.contact_sales || p.price_paise === null) {
      li.append(el("span", { class: "muted" }, "contact sales"));
    } else {
      const buy = el(
        "button",
        { type: "button", class: "buy" },
        `Buy ${(p.price_paise / 100).toFixed(2)} ${p.currency}`,
      );
      buy.onclick = guard(() => purchase(p.id));
      li.append(buy);
    }
    return li;
  }));
  return wallet;
}

async function purchase(planId: string) {
  const session = await call("POST /checkout/session", { body: { plan_id: planId } });
  if ("url" in session) {
    location.href = session.url; // Stripe Checkout (provider "stripe")
    return;
  }
  const order = session;
  if (config.fake_checkout_url) {
    // The fake provider's test checkout page pays, sends the signed webhook and comes back here.
    const back = `${origin}/console/`;
    sessionStorage.setItem("purchase_started_at", new Date(Date.now() - 5_000).toISOString());
    location.href = `${config.fake_checkout_url}/checkout/${
      encodeURIComponent(order.order_id)
    }?return=${encodeURIComponent(back)}`;
    return;
  }
  // Razorpay Checkout (a real test key): its script opens the payment sheet; verify credits.
  await new Promise<void>((resolve, reject) => {
    const script = el("script", { src: "https://checkout.razorpay.com/v1/checkout.js" });
    script.onload = () => resolve();
    script.onerror = () => reject(new Error("Razorpay Checkout could not be loaded."));
    document.head.append(script);
  });
  const Razorpay = (globalThis as unknown as { Razorpay: new (o: unknown) => { open(): void } })
    .Razorpay;
  new Razorpay({
    key: order.key_id,
    order_id: order.order_id,
    amount: order.amount,
    currency: order.currency,
    handler: (r: Record<string, string>) =>
      call("POST /checkout/verify", {
        body: r as CallInit<"POST /checkout/verify">["body"],
      }).then(loadBilling).catch(showError),
  }).open();
}

async function waitForPayment(orderId: string) {
  // The webhook credits the wallet: wait for its purchase row in the ledger.
  notice(`Payment for ${orderId} sent; waiting for the credits…`);
  const since = sessionStorage.getItem("purchase_started_at") ?? new Date(0).toISOString();
  for (let i = 0; i < 30; i++) {
    const wallet = await loadBilling();
    if (
      wallet.usage.some((u) => u.reason === "purchase" && new Date(u.created_at) >= new Date(since))
    ) {
      sessionStorage.removeItem("purchase_started_at");
      notice(`Payment for ${orderId} received: balance ${wallet.balance}.`);
      return;
    }
    await sleep(1000);
  }
  notice(`Payment for ${orderId} not credited yet: reload later.`);
}

// ---- reports -------------------------------------------------------------------------------

interface Report {
  id: string;
  title: string;
  status: string;
  error?: string | { message?: string } | null;
  download_url?: string;
}
function reportItem(r: Report): HTMLLIElement {
  const li = el(
    "li",
    { "data-report": r.id },
    `${r.title} `,
    el("span", { class: `status ${r.status}` }, r.status),
  );
  if (r.error) {
    li.append(
      " ",
      el(
        "span",
        { class: "warning" },
        typeof r.error === "string" ? r.error : r.error.message ?? "",
      ),
    );
  }
  if (r.status === "ready") {
    const a = el("a", { href: "#", class: "download" }, "Download PDF");
    a.onclick = guard(async () => {
      const fresh: Report = await call("GET /reports/{id}", { params: { id: r.id } });
      if (!fresh.download_url) throw new Error("No download link yet.");
      const blob = await fetch(fresh.download_url).then((res) => res.blob());
      const link = el("a", { href: URL.createObjectURL(blob), download: `${r.title}.pdf` });
      document.body.append(link);
      link.click();
      link.remove();
    });
    li.append(" ", a);
  }
  return li;
}
async function loadReports() {
  const list = rows<Report>(
    await call("GET /reports", { query: { workbench_id: workbenchId, limit: 20 } }),
  );
  $("reports").replaceChildren(...list.map(reportItem));
  return list;
}
async function watchReport(id: string) {
  for (let i = 0; i < 120; i++) {
    const r: Report = await call("GET /reports/{id}", { params: { id } });
    await loadReports();
    if (r.status === "ready" || r.status === "failed" || r.status === "error") return;
    await sleep(1000);
  }
}
$("report-form").onsubmit = guard(async () => {
  if (!workbenchId) throw new Error("Create a workbench first.");
  const r = await call("POST /reports", {
    headers: { "Idempotency-Key": crypto.randomUUID() },
    body: {
      workbench_id: workbenchId,
      report_type: $<HTMLSelectElement>("report-type").value as
        | "financial_summary"
        | "cash_flow"
        | "variance",
      title: $<HTMLInputElement>("report-title").value,
    },
  });
  await loadReports();
  await watchReport(r.id);
});
