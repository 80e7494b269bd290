export {
  type BufCurlOptions,
  type BufCurlResult,
  bufBinary,
  bufCurl,
  bufCurlArgs,
  parseJsonDocuments,
} from "./buf-curl";
export { type CertFiles, createTestCa, type TestCa } from "./certs";
