using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.Outbound;

namespace Apertur.Destinations.OAuth;

/// <summary>
/// One provider's OAuth app as the operator registered it, and where its endpoints are (every URL is a setting, so tests
/// and sovereign clouds can point elsewhere). <see cref="Scope"/> is the minimum the adapter needs.
/// </summary>
public sealed record OAuthApp(
    string Provider,
    string? ClientId,
    string? ClientSecret,
    Uri AuthorizeUrl,
    Uri TokenUrl,
    string Scope,
    IReadOnlyDictionary<string, string> AuthorizeParameters,
    bool ScopeOnTokenRequests = false)
{
    public const string Google = "google";
    public const string Dropbox = "dropbox";
    public const string Microsoft = "microsoft";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ClientId) && !string.IsNullOrWhiteSpace(ClientSecret);

    /// <summary>Google: <c>drive.file</c> (only files the app created), offline access, consent every time so a refresh token is issued.</summary>
    public static OAuthApp ForGoogle(string? clientId, string? clientSecret, Uri authorizeUrl, Uri tokenUrl) => new(
        Google, clientId, clientSecret, authorizeUrl, tokenUrl, "https://www.googleapis.com/auth/drive.file",
        new Dictionary<string, string> { ["access_type"] = "offline", ["prompt"] = "consent" });

    /// <summary>Dropbox: <c>files.content.write</c> (plus <c>account_info.read</c>, which every Dropbox app has), a long-lived refresh token.</summary>
    public static OAuthApp ForDropbox(string? clientId, string? clientSecret, Uri authorizeUrl, Uri tokenUrl) => new(
        Dropbox, clientId, clientSecret, authorizeUrl, tokenUrl, "account_info.read files.content.write",
        new Dictionary<string, string> { ["token_access_type"] = "offline" });

    /// <summary>Microsoft identity platform v2: Graph <c>Files.ReadWrite</c> and <c>offline_access</c> (the refresh token).</summary>
    public static OAuthApp ForMicrosoft(string? clientId, string? clientSecret, Uri authorizeUrl, Uri tokenUrl) => new(
        Microsoft, clientId, clientSecret, authorizeUrl, tokenUrl, "Files.ReadWrite offline_access",
        new Dictionary<string, string> { ["response_mode"] = "query" }, ScopeOnTokenRequests: true);
}

/// <summary>What a token endpoint answered.</summary>
public abstract record TokenAnswer
{
    /// <summary>Tokens issued. <see cref="RefreshToken"/> is null when the provider keeps the old one (Google, Dropbox on refresh).</summary>
    public sealed record Granted(string AccessToken, string? RefreshToken, TimeSpan ExpiresIn, string? Scope, string? AccountId) : TokenAnswer;

    /// <summary>The provider said no (RFC 6749 §5.2). <c>invalid_grant</c> means the user's grant is revoked or expired.</summary>
    public sealed record Refused(int Status, string Error, string? Description) : TokenAnswer
    {
        public bool GrantInvalid => Error == "invalid_grant";

        public string Describe() => string.IsNullOrWhiteSpace(Description) ? Error : $"{Error}: {Description}";
    }

    /// <summary>The endpoint could not be reached or failed (5xx, 429, timeout): try again later.</summary>
    public sealed record Unavailable(string Message, TimeSpan? RetryAfter = null) : TokenAnswer;
}

/// <summary>
/// The OAuth 2.0 authorization-code flow with PKCE (RFC 6749, RFC 7636), by hand: the three providers speak the same
/// small protocol, every URL must be a setting, and the calls must go through the SSRF-guarded client. Google.Apis.Auth
/// would cover one provider and bring its own HTTP stack. Client credentials are sent in the form body
/// (<c>client_secret_post</c>), which all three accept.
/// </summary>
public sealed class OAuthClient(HttpClient http, OAuthApp app)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    public OAuthApp App => app;

    /// <summary>The provider's consent page for this state and PKCE challenge (S256).</summary>
    public Uri AuthorizeUrl(string state, string codeChallenge, Uri redirectUri)
    {
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("client_id", app.ClientId ?? ""),
            new("redirect_uri", redirectUri.AbsoluteUri),
            new("response_type", "code"),
            new("scope", app.Scope),
            new("state", state),
            new("code_challenge", codeChallenge),
            new("code_challenge_method", "S256"),
        };
        parameters.AddRange(app.AuthorizeParameters);
        var query = string.Join('&', parameters.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        var builder = new UriBuilder(app.AuthorizeUrl);
        builder.Query = string.IsNullOrEmpty(builder.Query) ? query : builder.Query.TrimStart('?') + "&" + query;
        return builder.Uri;
    }

    public Task<TokenAnswer> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken ct) =>
        RequestAsync(
        [
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", redirectUri.AbsoluteUri),
            new("code_verifier", codeVerifier),
        ], ct);

    public Task<TokenAnswer> RefreshAsync(string refreshToken, CancellationToken ct) =>
        RequestAsync([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)], ct);

    private async Task<TokenAnswer> RequestAsync(List<KeyValuePair<string, string>> form, CancellationToken ct)
    {
        if (!app.IsConfigured)
        {
            return new TokenAnswer.Refused(0, "not_configured", $"the {app.Provider} OAuth client id and secret are not set on this server");
        }
        form.Add(new("client_id", app.ClientId!));
        form.Add(new("client_secret", app.ClientSecret!));
        if (app.ScopeOnTokenRequests)
        {
            form.Add(new("scope", app.Scope));
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, app.TokenUrl) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return Read(response, text);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new TokenAnswer.Unavailable($"the {app.Provider} token endpoint did not answer within {Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            ct.ThrowIfCancellationRequested();
            for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            {
                if (inner is OutboundBlockedException blocked)
                {
                    return new TokenAnswer.Refused(0, "blocked", blocked.Message);
                }
            }
            return new TokenAnswer.Unavailable($"could not reach the {app.Provider} token endpoint {app.TokenUrl.Host}:{app.TokenUrl.Port} ({e.Message})");
        }
    }

    private TokenAnswer Read(HttpResponseMessage response, string text)
    {
        var status = (int)response.StatusCode;
        JsonElement json = default;
        try
        {
            using var doc = JsonDocument.Parse(text);
            json = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            // Not JSON: judged by the status below.
        }
        if (status is >= 200 and < 300 && json.ValueKind == JsonValueKind.Object && Text(json, "access_token") is { Length: > 0 } access)
        {
            if (Text(json, "token_type") is { } type && !type.Equals("bearer", StringComparison.OrdinalIgnoreCase))
            {
                return new TokenAnswer.Refused(status, "unsupported_token_type", $"the {app.Provider} token endpoint issued a '{type}' token, not a bearer token");
            }
            var expiresIn = Seconds(json, "expires_in") is { } seconds && seconds > 0 ? TimeSpan.FromSeconds(seconds) : DefaultLifetime;
            return new TokenAnswer.Granted(access, Text(json, "refresh_token"), expiresIn, Text(json, "scope"), Text(json, "account_id"));
        }
        if (status is 400 or 401 && json.ValueKind == JsonValueKind.Object && Text(json, "error") is { Length: > 0 } error)
        {
            return new TokenAnswer.Refused(status, error, Text(json, "error_description"));
        }
        if (status is >= 500 or (int)HttpStatusCode.TooManyRequests)
        {
            var retryAfter = response.Headers.RetryAfter?.Delta;
            return new TokenAnswer.Unavailable($"the {app.Provider} token endpoint answered {status} {response.ReasonPhrase}", retryAfter);
        }
        var snippet = text.Length > 200 ? text[..200] : text;
        return new TokenAnswer.Refused(status, "unexpected_response", $"the {app.Provider} token endpoint answered {status} {response.ReasonPhrase}: {snippet}");
    }

    private static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? Seconds(JsonElement json, string name)
    {
        if (!json.TryGetProperty(name, out var value))
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
    }
}

/// <summary>PKCE (RFC 7636, S256 only) and the random <c>state</c> of a connect flow.</summary>
public static class Pkce
{
    /// <summary>43 characters of base64url over 32 random bytes: both a code verifier and an unguessable state.</summary>
    public static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Challenge(string verifier) => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
