/**
 * Schema errors quote the value they reject ("Expected …, actual <the value>"), and the API's
 * decode error carries that text twice (issues and message): a 60 KB field made a 120 KB answer.
 * These cut such errors to a fixed budget — a few issues, each message and path segment clipped —
 * so an error answer stays under ~3 KB whatever the input.
 */
import { HttpApiError } from "@effect/platform"
import { ParseResult } from "effect"
import { clip } from "./BoundedText.js"

const maxIssues = 5
const maxIssueMessageBytes = 200
const maxPathSegments = 6
const maxPathSegmentBytes = 32
const maxMessageBytes = 600

const boundPath = (path: ReadonlyArray<PropertyKey>): Array<PropertyKey> => {
  const kept = path.slice(0, maxPathSegments).map((segment) =>
    typeof segment === "string" ? clip(segment, maxPathSegmentBytes) : segment
  )
  return path.length > maxPathSegments ? [...kept, "…"] : kept
}

const moreIssues = (total: number) => (total > maxIssues ? ` (${total - maxIssues} more issues not shown)` : "")

/** The same 400, with at most five issues and every message and path segment clipped. */
export const boundDecodeError = (error: HttpApiError.HttpApiDecodeError): HttpApiError.HttpApiDecodeError =>
  new HttpApiError.HttpApiDecodeError({
    issues: error.issues.slice(0, maxIssues).map((issue) => ({
      _tag: issue._tag,
      path: boundPath(issue.path),
      message: clip(issue.message, maxIssueMessageBytes)
    })),
    // The issues, one line each, rather than the platform's tree: the tree nests every schema
    // layer around the one message that matters, which clipping would cut off.
    message: clip(
      error.issues.slice(0, maxIssues).map((issue) => clip(describeIssue(issue.path, issue.message), maxIssueMessageBytes))
        .join("; "),
      maxMessageBytes
    ) + moreIssues(error.issues.length)
  })

const describeIssue = (path: ReadonlyArray<PropertyKey>, message: string) =>
  path.length === 0 ? message : `${boundPath(path).map(String).join(".")}: ${message}`

/** A one-line account of a schema failure ("a; b"), bounded like `boundDecodeError`. */
export const describeParseError = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  return clip(
    issues.slice(0, maxIssues).map((issue) => clip(issue.message, maxIssueMessageBytes)).join("; "),
    maxMessageBytes
  ) + moreIssues(issues.length)
}
