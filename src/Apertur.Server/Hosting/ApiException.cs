using Microsoft.AspNetCore.WebUtilities;

namespace Apertur.Server.Hosting;

/// <summary>
/// Any failure the client should see. Thrown from anywhere; <see cref="ApiErrorHandler"/> turns it into the
/// error body of docs/api.md "Errors", <c>{"statusCode","error","message","code"}</c> (plus <c>retryAfter</c> on 429, 503 and 507).
/// </summary>
public sealed class ApiException(int status, string code, string message, int? retryAfterSeconds = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public int? RetryAfterSeconds { get; } = retryAfterSeconds;

    public static ApiException BadRequest(string message, string code = "VALIDATION_ERROR") => new(400, code, message);
    public static ApiException Unauthorized(string message, string code = "AUTHENTICATION_FAILED") => new(401, code, message);
    public static ApiException Forbidden(string message, string code = "FORBIDDEN") => new(403, code, message);
    public static ApiException NotFound(string message, string code = "NOT_FOUND") => new(404, code, message);

    /// <summary>Writes an error body directly; used by the handler and by middleware that answers without throwing.</summary>
    public static Task WriteAsync(HttpContext context, int status, string code, string message, int? retryAfterSeconds = null)
    {
        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var body = new ErrorBody(status, ReasonPhrases.GetReasonPhrase(status), message, code, retryAfterSeconds);
        return context.Response.WriteAsJsonAsync(body);
    }
}

/// <summary>The error body. <c>retryAfter</c> is omitted unless a <c>Retry-After</c> is sent (429, 503, 507).</summary>
public sealed record ErrorBody(
    int StatusCode,
    string Error,
    string Message,
    string Code,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    int? RetryAfter);
