using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Apertur.IntegrationTests.OpenApi;

/// <summary>One answer as a client received it.</summary>
public sealed record RecordedAnswer(string Method, string Path, int Status, string? ContentType, string Body);

/// <summary>Records every answer that passes through a client (method, path, status, content type, body).</summary>
public sealed class AnswerRecorder : DelegatingHandler
{
    private readonly ConcurrentQueue<RecordedAnswer> _answers = new();

    public IReadOnlyCollection<RecordedAnswer> Answers => _answers;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        await RecordAsync(request, response, cancellationToken);
        return response;
    }

    public async Task RecordAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var contentType = response.Content.Headers.ContentType?.MediaType;
        // Bodies of JSON answers only: images and event streams are checked by their status and type.
        var body = contentType == "application/json" ? await response.Content.ReadAsStringAsync(cancellationToken) : "";
        _answers.Enqueue(new RecordedAnswer(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode, contentType, body));
    }
}

/// <summary>
/// The server's OpenAPI document as a checker of real answers: each answer's route is found among the document's paths, its
/// status must be one the document gives for that operation, its content type one it lists, and a JSON body must validate
/// against the schema of that status (with JSON Schema 2020-12, every object closed to properties it does not name).
/// </summary>
public sealed class ApiContract
{
    private readonly JsonObject _document;
    private readonly JsonObject _defs;
    private readonly List<(Regex Pattern, int Literals, string Template)> _paths;
    private readonly Dictionary<string, JsonSchema> _schemas = [];

    private ApiContract(JsonObject document)
    {
        _document = document;
        _defs = Close(JsonNode.Parse(Rewrite(document["components"]?["schemas"]?.ToJsonString() ?? "{}"))!.AsObject());
        _paths = document["paths"]!.AsObject().Select(p => (
            new Regex("^" + Regex.Replace(Regex.Escape(p.Key), @"\\\{[^}]+}", "[^/]+") + "$"),
            p.Key.Split('/').Count(s => s.Length > 0 && !s.StartsWith('{')),
            p.Key)).ToList();
    }

    public JsonObject Document => _document;

    public static async Task<ApiContract> LoadAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/openapi/v1.json");
        response.EnsureSuccessStatusCode();
        return new ApiContract(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    /// <summary>The document's path template of a request path: the match with the most literal segments wins.</summary>
    public string? TemplateOf(string path) =>
        _paths.Where(p => p.Pattern.IsMatch(path)).OrderByDescending(p => p.Literals).Select(p => p.Template).FirstOrDefault();

    /// <summary>Every operation of the document as "METHOD template".</summary>
    public IEnumerable<string> Operations() =>
        _document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => $"{o.Key.ToUpperInvariant()} {p.Key}"));

    /// <summary>What is wrong with one answer, or null when the document describes it.</summary>
    public string? Check(RecordedAnswer answer)
    {
        var template = TemplateOf(answer.Path);
        var where = $"{answer.Method} {answer.Path} → {answer.Status}";
        if (template is null)
        {
            return $"{where}: no path of the document matches";
        }
        var operation = _document["paths"]![template]![answer.Method.ToLowerInvariant()];
        if (operation is null)
        {
            return $"{where}: {template} has no {answer.Method} operation";
        }
        var response = operation["responses"]?[answer.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (response is null)
        {
            return $"{where}: status not documented for {answer.Method} {template}";
        }
        var content = response["content"]?.AsObject();
        if (content is null || content.Count == 0)
        {
            return answer.ContentType is null ? null : $"{where}: documented without a body, answered {answer.ContentType}";
        }
        if (answer.ContentType is null || !content.ContainsKey(answer.ContentType))
        {
            return $"{where}: answered {answer.ContentType ?? "no body"}, documented {string.Join(", ", content.Select(c => c.Key))}";
        }
        if (answer.ContentType != "application/json")
        {
            return null;
        }
        var key = $"{answer.Method} {template} {answer.Status}";
        if (!_schemas.TryGetValue(key, out var schema))
        {
            schema = _schemas[key] = Build(content["application/json"]!["schema"]!);
        }
        using var body = JsonDocument.Parse(answer.Body);
        var result = schema.Evaluate(body.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (result.IsValid)
        {
            return null;
        }
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Value}"));
        return $"{where}: body does not match {key}: {string.Join("; ", errors)}\n  body: {answer.Body}";
    }

    /// <summary>
    /// Every schema of the document that shows examples (components and inline request bodies), with what is wrong with each
    /// example against that very schema, or null when it validates.
    /// </summary>
    public List<(string Schema, string? Problem)> CheckExamples()
    {
        var checks = new List<(string, string?)>();
        foreach (var schema in Descendants(_document["components"]?["schemas"]).Concat(Descendants(_document["paths"]))
            .Where(node => node["examples"] is JsonArray && node["type"] is not null).ToList())
        {
            var examples = schema["examples"]!.AsArray();
            var withoutExamples = schema.DeepClone().AsObject();
            withoutExamples.Remove("examples");
            var validator = Build(withoutExamples);
            foreach (var example in examples)
            {
                using var body = JsonDocument.Parse(example!.ToJsonString());
                var result = validator.Evaluate(body.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
                var name = schema.GetPath();
                checks.Add((name, result.IsValid ? null : $"{name}: its example does not match: " + string.Join("; ", (result.Details ?? [])
                    .Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")))));
            }
        }
        return checks;
    }

    private JsonSchema Build(JsonNode schema)
    {
        var root = JsonNode.Parse(Rewrite(schema.ToJsonString()))!.AsObject();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        root["$defs"] = _defs.DeepClone();
        return JsonSchema.FromText(root.ToJsonString(), baseUri: new Uri($"urn:apertur:openapi:{Guid.NewGuid():N}"));
    }

    private static string Rewrite(string json) => json.Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);

    // An object schema that names its properties allows no others: a field the server adds without the document fails.
    private static JsonObject Close(JsonObject schemas)
    {
        foreach (var node in Descendants(schemas))
        {
            if (node["properties"] is JsonObject && node["additionalProperties"] is null)
            {
                node["additionalProperties"] = false;
            }
        }
        return schemas;
    }

    private static IEnumerable<JsonObject> Descendants(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            yield return obj;
            foreach (var child in obj.Select(p => p.Value).ToList())
            {
                foreach (var d in Descendants(child))
                {
                    yield return d;
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array.ToList())
            {
                foreach (var d in Descendants(child))
                {
                    yield return d;
                }
            }
        }
    }
}
