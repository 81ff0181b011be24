using System.Text.Json;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Keys;

/// <summary>What the key form edits, and the project's destinations to choose defaults from.</summary>
public sealed record KeyFields(string Label, int? MaxImages, int? MaxImageDimension, string[] AllowedMimeTypes, bool LongPollingEnabled,
    string[] DefaultDestinations, IReadOnlyList<(Guid Id, string Name, string Type)> Choices, string? Env);

/// <summary>
/// API keys (owners change them): create (the plain key shown once, never stored), label, limits, default destinations, long
/// polling, disable, delete. Limits are read by the API's own rules (<see cref="KeyChanges.Read"/>) from the form.
/// </summary>
public sealed class KeysPageModel(AperturDb db, KeyService keys) : ProjectPageModel
{
    public sealed record CreatedKey(string Plain, string Label, string Env);

    public IReadOnlyList<ApiKey> Keys { get; private set; } = [];

    public IReadOnlyList<(Guid Id, string Name, string Type)> Destinations { get; private set; } = [];

    public CreatedKey? Created { get; private set; }

    public string DestinationName(string id) =>
        Destinations.FirstOrDefault(d => d.Id.ToString() == id) is { Name: { } name } ? name : "(deleted)";

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(string? env, string? label, CancellationToken ct)
    {
        await TryAsync(async () =>
        {
            var environment = env is ApiKeyTokens.Live or ApiKeyTokens.Test ? env : throw ApiException.BadRequest("Choose live or test.");
            var validLabel = KeyService.ValidLabel(label);
            var limits = FormBody();
            var defaults = Request.Form["defaultDestinations"].OfType<string>().ToArray();
            var (key, plain) = await keys.CreateWithDefaultsAsync(Project.Id, environment, validLabel, limits, defaults, ct);
            // Shown in this answer only: never put in a cookie, a redirect or a log.
            Created = new CreatedKey(plain, key.Label, key.Env);
        });
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostUpdateAsync(Guid keyId, string? label, bool isActive, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.ProjectId == Project.Id, ct);
        if (key is null)
        {
            return NotFoundPage();
        }
        var ok = await TryAsync(async () =>
        {
            key.Label = KeyService.ValidLabel(label);
            key.IsActive = isActive;
            KeyChanges.Read(FormBody()).ApplyTo(key);
            await keys.SetDefaultDestinationsAsync(Project.Id, key, Request.Form["defaultDestinations"].OfType<string>(), ct);
        });
        if (!ok)
        {
            db.ChangeTracker.Clear();
            await LoadAsync(ct);
            return Page();
        }
        await db.SaveChangesAsync(ct);
        Notice = $"Key \"{key.Label}\" saved.";
        return Redirect(DashboardRoutes.Keys(Project.Id));
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid keyId, CancellationToken ct)
    {
        var deleted = await db.ApiKeys.Where(k => k.Id == keyId && k.ProjectId == Project.Id).ExecuteDeleteAsync(ct);
        Notice = deleted == 0 ? "That key was already gone." : "Key deleted.";
        return Redirect(DashboardRoutes.Keys(Project.Id));
    }

    /// <summary>The form's limit fields as the API's JSON body, so both are checked by the same rules.</summary>
    private JsonBody FormBody()
    {
        var form = Request.Form;
        int? Number(string name) => int.TryParse(form[name].ToString(), out var n) ? n
            : string.IsNullOrWhiteSpace(form[name]) ? null : throw ApiException.BadRequest($"'{name}' must be a whole number.");
        var body = new Dictionary<string, object?>
        {
            ["maxImages"] = Number("maxImages"),
            ["maxImageDimension"] = Number("maxImageDimension"),
            ["allowedMimeTypes"] = form["allowedMimeTypes"].OfType<string>().ToArray(),
            ["longPollingEnabled"] = form["longPollingEnabled"] == "true",
        };
        return JsonBody.FromElement(JsonSerializer.SerializeToElement(body));
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Keys = await db.ApiKeys.AsNoTracking().Where(k => k.ProjectId == Project.Id).OrderBy(k => k.CreatedAt).ThenBy(k => k.Id).ToListAsync(ct);
        Destinations = (await db.Destinations.AsNoTracking().Where(d => d.ProjectId == Project.Id).OrderBy(d => d.CreatedAt)
            .Select(d => new { d.Id, d.Name, d.Type }).ToListAsync(ct)).Select(d => (d.Id, d.Name, d.Type)).ToList();
    }
}
