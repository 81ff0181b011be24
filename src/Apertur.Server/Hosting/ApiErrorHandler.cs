using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Apertur.Server.Hosting;

/// <summary>
/// The one place exceptions become HTTP answers (docs/api.md "Errors"): API errors as-is, bad input as 400, a database that cannot be used
/// right now as 503 with <c>Retry-After</c> (<see cref="DatabaseUnavailable"/>), so is an image store that cannot
/// (<see cref="Storage.ImageStoreUnavailableException"/>), a full disk as 507 with <c>Retry-After</c>
/// (<see cref="Storage.StorageFull"/>), anything else 500.
/// </summary>
public sealed partial class ApiErrorHandler(ILogger<ApiErrorHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var context = httpContext;
        if (context.Response.HasStarted)
        {
            return false;
        }
        switch (exception)
        {
            case ApiException api:
                await ApiException.WriteAsync(context, api.Status, api.Code, api.Message, api.RetryAfterSeconds);
                return true;
            case BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge:
                await ApiException.WriteAsync(context, 413, "FILE_TOO_LARGE", "The request body is too large.");
                return true;
            case BadHttpRequestException bad:
                await ApiException.WriteAsync(context, bad.StatusCode, "VALIDATION_ERROR", bad.Message);
                return true;
            case System.Text.Json.JsonException:
                await ApiException.WriteAsync(context, 400, "VALIDATION_ERROR", "The request body is not valid JSON.");
                return true;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return true;
            case var unavailable when DatabaseUnavailable.Is(unavailable):
                // Expected during a database restart or outage: one line, no stack trace.
                LogDatabaseUnavailable(logger, context.Request.Method, context.Request.Path, unavailable.GetBaseException().Message);
                var answer = DatabaseUnavailable.Answer();
                await ApiException.WriteAsync(context, answer.Status, answer.Code, answer.Message, answer.RetryAfterSeconds);
                return true;
            case var full when Storage.StorageFull.Is(full):
                // ENOSPC or SQLite's "database or disk is full": one line, no stack trace; what is stored is still served.
                LogStorageFull(logger, context.Request.Method, context.Request.Path, full.GetBaseException().Message);
                var fullAnswer = Storage.StorageFull.Answer();
                await ApiException.WriteAsync(context, fullAnswer.Status, fullAnswer.Code, fullAnswer.Message, fullAnswer.RetryAfterSeconds);
                return true;
            case Storage.ImageStoreUnavailableException store:
                // The S3 image store refused or could not be reached: one line, no stack trace; the client sends again.
                LogStoreUnavailable(logger, context.Request.Method, context.Request.Path, store.Message);
                var storeAnswer = Storage.ImageStoreUnavailableException.Answer();
                await ApiException.WriteAsync(context, storeAnswer.Status, storeAnswer.Code, storeAnswer.Message, storeAnswer.RetryAfterSeconds);
                return true;
            default:
                LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
                await ApiException.WriteAsync(context, 500, "INTERNAL_ERROR", "An unexpected error occurred.");
                return true;
        }
    }

    /// <summary>Gives unmatched routes and bare status codes (404, 405) the JSON error body of docs/api.md "Errors".</summary>
    public static async Task WriteStatusCodeBodyAsync(StatusCodeContext statusContext)
    {
        var context = statusContext.HttpContext;
        var status = context.Response.StatusCode;
        var (code, message) = status switch
        {
            404 => ("NOT_FOUND", "Not found."),
            405 => ("METHOD_NOT_ALLOWED", "Method not allowed."),
            415 => ("UNSUPPORTED_MEDIA_TYPE", "Unsupported content type."),
            _ => ("HTTP_" + status, Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)),
        };
        await ApiException.WriteAsync(context, status, code, message);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable on {Method} {Path}: {Reason}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage full on {Method} {Path}: {Reason}")]
    private static partial void LogStorageFull(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Image store unavailable on {Method} {Path}: {Reason}")]
    private static partial void LogStoreUnavailable(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
