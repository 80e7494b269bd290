export {
  type BufCurlOptions,
  type BufCurlResult,
  bufBinary,
  bufCurl,
  bufCurlArgs,
  parseJsonDocuments,
} from "./buf-curl";
