using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Apertur.Server.OpenApi;

/// <summary>
/// Every shaping of the OpenAPI document in one place: its title, server and bearer scheme, each operation's security from its
/// <see cref="ApiAccessMetadata"/>, and schemas that say what the server really writes (which properties are always present,
/// numbers as numbers, timestamps as date-times, the examples of <see cref="ApiExamples"/>).
/// </summary>
public static class ApiDocumentTransformers
{
    public const string BearerScheme = "bearer";

    public static Task DocumentAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Apertur API",
            Version = "v1",
            Description = "The HTTP API of an Apertur server: the wire protocol of the hosted Apertur service, so the official SDKs work "
                + "against it. Casing is mixed on purpose (snake_case and camelCase, exactly as given here). Prose reference: docs/api.md.",
        };
        // The server the reference's "try it" calls: the generator takes this request's origin and PathBase; a configured
        // Apertur:PublicBaseUrl wins, as it does for every generated link (Hosting/PublicUrls, docs/deploy.md).
        var publicBaseUrl = context.ApplicationServices.GetRequiredService<IOptions<AperturOptions>>().Value.PublicBaseUrl;
        if (!string.IsNullOrWhiteSpace(publicBaseUrl))
        {
            document.Servers = [new OpenApiServer { Url = publicBaseUrl.TrimEnd('/') }];
        }
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "aptr_live_… or aptr_test_…",
            Description = "An API key of the project: `Authorization: Bearer aptr_live_…` (docs/api.md \"Authentication\").",
        };
        return Task.CompletedTask;
    }

    /// <summary>Keyed routes require the bearer key; public ones say so with an empty requirement. A route with neither is a mistake.</summary>
    public static async Task OperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var description = context.Description;
        foreach (var body in description.ActionDescriptor.EndpointMetadata.OfType<RequestBodyMetadata>())
        {
            operation.RequestBody ??= new OpenApiRequestBody { Required = false, Content = new Dictionary<string, OpenApiMediaType>() };
            operation.RequestBody.Content![body.ContentType] = new OpenApiMediaType { Schema = await context.GetOrCreateSchemaAsync(body.Type, null, ct) };
        }
        var access = description.ActionDescriptor.EndpointMetadata.OfType<ApiAccessMetadata>().LastOrDefault()
            ?? throw new InvalidOperationException(
                $"{description.HttpMethod} /{description.RelativePath} has no access metadata: map it with .Keyed() or .Public() (OpenApi/ApiDescriptions.cs).");
        operation.Security = access.Access == ApiAccess.Key
            ? [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] }]
            : [];
    }

    public static Task SchemaAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        NumbersAsNumbers(schema);
        NumberWithoutType(schema);
        TimestampAsDateTime(schema, context);
        if (context.JsonPropertyInfo is null && context.JsonTypeInfo.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object
            && schema.Properties is { Count: > 0 })
        {
            SetRequired(schema, context);
        }
        if (ApiExamples.For(context.JsonTypeInfo.Type) is { } example)
        {
            schema.Examples = [example];
        }
        return Task.CompletedTask;
    }

    // The server writes numbers as JSON numbers; the generator's "or a numeric string" is only what it would accept on reading.
    private static void NumbersAsNumbers(OpenApiSchema schema)
    {
        if (schema.Type is { } type && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)) && type.HasFlag(JsonSchemaType.String))
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }
    }

    // Answers: every property is written, null or not, except those left out when null. Request bodies (types named
    // …Request): the fields a client must send are the non-nullable ones.
    private static void SetRequired(OpenApiSchema schema, OpenApiSchemaTransformerContext context)
    {
        var isRequest = context.JsonTypeInfo.Type.Name.EndsWith("Request", StringComparison.Ordinal);
        var nullability = new NullabilityInfoContext();
        schema.Required = new HashSet<string>();
        foreach (var property in context.JsonTypeInfo.Properties)
        {
            if (property.Get is null || !schema.Properties!.ContainsKey(property.Name) || property.AttributeProvider is not PropertyInfo info)
            {
                continue;
            }
            var required = isRequest
                ? nullability.Create(info).ReadState == NullabilityState.NotNull && Nullable.GetUnderlyingType(info.PropertyType) is null
                : info.GetCustomAttribute<JsonIgnoreAttribute>() is null;
            if (required)
            {
                schema.Required.Add(property.Name);
            }
        }
    }

    // Timestamps are written as strings by Iso.Format (ISO-8601 UTC with Z, docs/api.md "Conventions"), in answer properties
    // named …At or …Since. Request bodies are left alone: they also take a date-time without a zone (read as UTC).
    private static void TimestampAsDateTime(OpenApiSchema schema, OpenApiSchemaTransformerContext context)
    {
        if (context.JsonPropertyInfo is { PropertyType: var type, AttributeProvider: PropertyInfo info } && type == typeof(string)
            && (info.Name.EndsWith("At", StringComparison.Ordinal) || info.Name.EndsWith("Since", StringComparison.Ordinal))
            && info.DeclaringType?.Name.EndsWith("Request", StringComparison.Ordinal) == false)
        {
            schema.Format = "date-time";
        }
    }

    private static void NumberWithoutType(OpenApiSchema schema)
    {
        // A number written by a custom converter (deliverySuccessRate) keeps its format but loses its type.
        if (schema.Type is null && schema.Format is "double" or "float")
        {
            schema.Type = JsonSchemaType.Number;
        }
    }
}
