import { connect, type Http2Session, type Settings } from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import {
  SERVER_MAX_FRAME_BYTES,
  SERVER_STREAM_WINDOW_BYTES,
  type StartedRpcServer,
  startServer,
  tuneServerSessions,
} from "../src/index";

// The settings a client sees from our servers. grpc-js has no option for them: they are applied
// through its private listener map, so this test is what notices a grpc-js upgrade that moves it.

let server: StartedRpcServer | undefined;
let session: Http2Session | undefined;

afterEach(async () => {
  session?.destroy();
  session = undefined;
  await server?.shutdown(1_000);
  server = undefined;
});

/**
 * Resolves with the server's settings once they include `initialWindowSize` = want. A server that
 * never sends them leaves the test to fail at vitest's timeout.
 */
function remoteSettingsWith(s: Http2Session, want: number): Promise<Settings> {
  return new Promise((resolve) => {
    const check = (settings: Settings): void => {
      if (settings.initialWindowSize === want) resolve(settings);
    };
    s.on("remoteSettings", check);
  });
}

describe("server HTTP/2 session tuning", () => {
  it("announces the larger stream window and frame size to every client", async () => {
    server = await startServer({ address: "127.0.0.1:0", handlers: {} });
    session = connect(`http://${server.address}`);
    const settings = await remoteSettingsWith(session, SERVER_STREAM_WINDOW_BYTES);
    expect(settings.maxFrameSize).toBe(SERVER_MAX_FRAME_BYTES);
  });

  it("finds the listeners of a bound server and tunes each once", async () => {
    server = await startServer({ address: "127.0.0.1:0", handlers: {} });
    expect(tuneServerSessions(server.server)).toBe(1);
    expect(tuneServerSessions(server.server)).toBe(1);
  });
});
