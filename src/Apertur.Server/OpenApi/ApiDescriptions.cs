using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Http.Metadata;

namespace Apertur.Server.OpenApi;

/// <summary>Who may call a route (docs/api.md "Authentication"), as the OpenAPI document says it.</summary>
public enum ApiAccess
{
    /// <summary>An API key as a bearer token.</summary>
    Key,

    /// <summary>No key: the session UUID (or a signed link) is the capability; an Authorization header is ignored.</summary>
    Public,
}

/// <summary>The access of one route; every route of the document carries one (<see cref="ApiDocumentTransformers"/> refuses a route without).</summary>
public sealed record ApiAccessMetadata(ApiAccess Access);

/// <summary>
/// A request body a route reads itself (<see cref="JsonBody"/>, the upload's multipart reader), for the document only: unlike
/// <c>Accepts</c>, it does not make routing refuse other content types, which the endpoints answer themselves.
/// </summary>
public sealed record RequestBodyMetadata(Type Type, string ContentType);

/// <summary>
/// The declarative part of the API reference: what the feature files add where they map their routes (access, error statuses,
/// binary answers). Success bodies come from the handlers' typed results; the rest of the shaping is in
/// <see cref="ApiDocumentTransformers"/>.
/// </summary>
public static class ApiDescriptions
{
    private static readonly string[] Json = ["application/json"];

    /// <summary>A keyed route: bearer key, and the errors every keyed route can answer (bad key, IP or origin, rate limit, outage).</summary>
    public static TBuilder Keyed<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiAccessMetadata(ApiAccess.Key)).Errors(401, 403, 429, 500, 503);

    /// <summary>A public route: no key, and the errors every public route can answer (rate limit, outage).</summary>
    public static TBuilder Public<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiAccessMetadata(ApiAccess.Public)).Errors(429, 500, 503);

    /// <summary>Statuses this route answers with the error body of docs/api.md "Errors".</summary>
    public static TBuilder Errors<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ErrorBody), Json));
        }
        return builder;
    }

    /// <summary>A 200 whose body is raw bytes of one of <paramref name="contentTypes"/> (images, QR codes).</summary>
    public static RouteHandlerBuilder Bytes(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(Stream), contentTypes));

    /// <summary>A 200 that is a <c>text/event-stream</c> of <c>event:</c> and <c>data:</c> lines (docs/api.md "Live events (SSE)").</summary>
    public static RouteHandlerBuilder EventStream(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/event-stream"]));

    /// <summary>A request body the route reads, as the document shows it (aliases are in docs/api.md); several for several content types.</summary>
    public static RouteHandlerBuilder Body<TRequest>(this RouteHandlerBuilder builder, string contentType = "application/json") =>
        builder.WithMetadata(new RequestBodyMetadata(typeof(TRequest), contentType));
}
