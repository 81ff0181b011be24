using Scalar.AspNetCore;

namespace Apertur.Server.OpenApi;

/// <summary>
/// The machine-readable API reference: an OpenAPI 3.1 document at <c>/openapi/v1.json</c>, generated from the <c>/api/v1</c>
/// routes and their metadata (<see cref="ApiDescriptions"/>, <see cref="ApiDocumentTransformers"/>), and an interactive
/// reference at <c>/docs</c> (Scalar), whose script is served by this server: no CDN, no web font, no telemetry.
/// </summary>
public static class ApiReference
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddApiReference(this IServiceCollection services)
    {
        services.AddOpenApi(DocumentName, options =>
        {
            options.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_1;
            // The API only: not the dashboard, the upload page, health checks or the OAuth callback page.
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer(ApiDocumentTransformers.DocumentAsync);
            options.AddOperationTransformer(ApiDocumentTransformers.OperationAsync);
            options.AddSchemaTransformer(ApiDocumentTransformers.SchemaAsync);
        });
        return services;
    }

    public static IEndpointRouteBuilder MapApiReference(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs", options => options
            .WithTitle("Apertur API")
            .WithOpenApiRoutePattern(DocumentPath)
            .DisableDefaultFonts()
            .DisableTelemetry()
            // Nothing that would send the document to Scalar's services: no "Ask AI" agent, no developer toolbar (its
            // share, SDK generation and deploy buttons) even on localhost.
            .DisableAgent()
            .HideDeveloperTools());
        return app;
    }
}
