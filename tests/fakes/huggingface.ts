/**
 * A fake Hugging Face Inference server on 127.0.0.1 speaking the feature-extraction wire format:
 * `POST .../pipeline/feature-extraction` with `{"inputs": string | string[]}` and a Bearer token,
 * answering a 384-dimension vector per input (deterministic, from the words of the text). Tests
 * can make the next requests fail with a status code.
 */
import { createLocalEmbedder } from "../../shared/embeddings.ts";

export interface FakeHf {
  url: string;
  /** The endpoint URL to configure (HF_ENDPOINT_URL) for `model`. */
  endpointFor(model: string): string;
  requests: {
    path: string;
    inputs: number;
    authorization: string | null;
    at: number;
    status: number;
  }[];
  /** The next `n` requests answer `status`. */
  failNext(n: number, status?: number): void;
  stop(): Promise<void>;
}

export function startFakeHf(): FakeHf {
  const embedder = createLocalEmbedder();
  const requests: FakeHf["requests"] = [];
  let failures: { remaining: number; status: number } = { remaining: 0, status: 503 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const authorization = req.headers.get("authorization");
    if (req.method !== "POST" || !path.endsWith("/pipeline/feature-extraction")) {
      return Response.json({ error: "Not Found" }, { status: 404 });
    }
    if (!authorization?.startsWith("Bearer hf_")) {
      return Response.json({ error: "Invalid credentials in Authorization header" }, {
        status: 401,
      });
    }
    const body = await req.json() as { inputs?: string | string[] };
    const inputs = typeof body.inputs === "string" ? [body.inputs] : body.inputs;
    const failing = failures.remaining > 0;
    requests.push({
      path,
      inputs: inputs?.length ?? 0,
      authorization,
      at: Date.now(),
      status: failing ? failures.status : 200,
    });
    if (failing) {
      failures.remaining--;
      return Response.json({ error: "Model is overloaded" }, { status: failures.status });
    }
    if (!Array.isArray(inputs) || inputs.some((i) => typeof i !== "string")) {
      return Response.json({ error: "inputs must be a string or a list of strings" }, {
        status: 400,
      });
    }
    const vectors = await embedder.embed(inputs);
    return Response.json(typeof body.inputs === "string" ? vectors[0] : vectors);
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    endpointFor: (model) => `${url}/hf-inference/models/${model}/pipeline/feature-extraction`,
    requests,
    failNext(n, status = 503) {
      failures = { remaining: n, status };
    },
    stop: () => server.shutdown(),
  };
}
