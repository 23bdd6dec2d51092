// common: every Lambda / AWS error-type string the daemon emits, in one place.
#pragma once

#include <string_view>

namespace lambdad::error_types {

// Function errors (200 + X-Amz-Function-Error: Unhandled), lambda-spec §4.2.
inline constexpr std::string_view kSandboxTimedout = "Sandbox.Timedout";
inline constexpr std::string_view kRuntimeExitError = "Runtime.ExitError";
inline constexpr std::string_view kRuntimeInvalidEntrypoint = "Runtime.InvalidEntrypoint";
inline constexpr std::string_view kRuntimeInvalidWorkingDir = "Runtime.InvalidWorkingDir";
inline constexpr std::string_view kRuntimeOutOfMemory = "Runtime.OutOfMemory";
inline constexpr std::string_view kRuntimeInitError = "Runtime.InitError";
inline constexpr std::string_view kRuntimeUnknown = "Runtime.Unknown";
// A streamed response whose upload broke off (lambda-spec §1.9).
inline constexpr std::string_view kRuntimeTruncatedResponse = "Runtime.TruncatedResponse";
inline constexpr std::string_view kRuntimeInvalidResponseModeHeader = "Runtime.InvalidResponseModeHeader";
inline constexpr std::string_view kFunctionResponseSizeTooLarge = "Function.ResponseSizeTooLarge";
inline constexpr std::string_view kFunctionUnknown = "Function.Unknown";
inline constexpr std::string_view kSandboxFailure = "Sandbox.Failure";

// Runtime API errors, lambda-spec §1.7.
inline constexpr std::string_view kInvalidRequestID = "InvalidRequestID";
inline constexpr std::string_view kInvalidStateTransition = "InvalidStateTransition";
inline constexpr std::string_view kRequestEntityTooLarge = "RequestEntityTooLarge";
inline constexpr std::string_view kTruncatedHTTPRequest = "TruncatedHTTPRequest";
inline constexpr std::string_view kInvalidFunctionResponseMode = "InvalidFunctionResponseMode";
inline constexpr std::string_view kInvokeTimeout = "InvokeTimeout";
inline constexpr std::string_view kInternalServerError = "InternalServerError";

// Invoke API / control plane errors, lambda-spec §3.5 and §4.1.
inline constexpr std::string_view kResourceNotFoundException = "ResourceNotFoundException";
inline constexpr std::string_view kRequestEntityTooLargeException = "RequestEntityTooLargeException";
inline constexpr std::string_view kInvalidRequestContentException = "InvalidRequestContentException";
inline constexpr std::string_view kInvalidParameterValueException = "InvalidParameterValueException";
inline constexpr std::string_view kValidationException = "ValidationException";
inline constexpr std::string_view kTooManyRequestsException = "TooManyRequestsException";
inline constexpr std::string_view kServiceException = "ServiceException";
inline constexpr std::string_view kUnknownOperationException = "UnknownOperationException";
inline constexpr std::string_view kResourceConflictException = "ResourceConflictException";
inline constexpr std::string_view kPreconditionFailedException = "PreconditionFailedException";
// SnapStart restores (lambda-spec §14): an after-restore hook failed (400); the restore took more
// than 10 s (408).
inline constexpr std::string_view kSnapStartException = "SnapStartException";
inline constexpr std::string_view kSnapStartTimeoutException = "SnapStartTimeoutException";
// What a runtime declares when its SnapStart hooks fail (the Python runtime client's types).
inline constexpr std::string_view kRuntimeBeforeSnapshotError = "Runtime.BeforeSnapshotError";
inline constexpr std::string_view kRuntimeAfterRestoreError = "Runtime.AfterRestoreError";

}  // namespace lambdad::error_types
