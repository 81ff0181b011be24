using System.Text.Json;
using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Destinations;

/// <summary>
/// Destinations: add and edit each kind with the form its <see cref="DestinationForms"/> entry describes, test the connection
/// (the same <see cref="DestinationService.TestAsync"/> as POST …/destinations/{id}/test, answered in place), enable,
/// disable, delete; drives are connected with OAuth. Members may only test.
/// </summary>
public sealed class DestinationsPageModel(AperturDb db, DestinationService destinations, DestinationRegistry registry) : ProjectPageModel
{
    public IReadOnlyList<Destination> Rows { get; private set; } = [];

    /// <summary>The kind of the add form.</summary>
    public DestinationForm Form { get; private set; } = DestinationForms.All[0];

    /// <summary>The destination being edited, if any.</summary>
    public Destination? Editing { get; private set; }

    /// <summary>Values to put back in the form (never secrets).</summary>
    public Dictionary<string, string?> Values { get; } = new(StringComparer.Ordinal);

    public Dictionary<Guid, TestView> TestResults { get; } = [];

    public bool HasAdapter(string kind) => registry.Find(kind) is not null;

    public string? Value(FormField field) => Values.TryGetValue(field.Name, out var v) ? v
        : Editing is { } d && d.Type == Form.Kind ? DestinationForms.Shown(field, DestinationConfigs.Mask(d.Type, d.Config)) : null;

    protected override bool MemberMayPost(string? handler) => handler == "Test";

    public async Task<IActionResult> OnGetAsync(string? kind, Guid? edit, CancellationToken ct)
    {
        if (edit is { } id)
        {
            Editing = await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.ProjectId == Project.Id, ct);
            if (Editing is null)
            {
                return NotFoundPage();
            }
            Form = DestinationForms.Find(Editing.Type) ?? Form;
        }
        else if (DestinationForms.Find(kind) is { } form)
        {
            Form = form;
        }
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostCreateAsync(string? kind, string? name, CancellationToken ct)
    {
        Form = DestinationForms.Find(kind) ?? Form;
        Remember(name);
        var (config, problems) = DestinationForms.Read(Form, f => Request.Form[f].ToString(), editing: false);
        if (problems.Count > 0)
        {
            Error = string.Join(" ", problems);
        }
        else if (await TryAsync(() => destinations.CreateAsync(Project.Id, Form.Kind, name, config, isActive: true, ct)))
        {
            Notice = $"Destination \"{name?.Trim()}\" added. Test its connection below.";
            return Redirect(DashboardRoutes.Destinations(Project.Id));
        }
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostUpdateAsync(Guid id, string? name, CancellationToken ct)
    {
        Editing = await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.ProjectId == Project.Id, ct);
        if (Editing is null)
        {
            return NotFoundPage();
        }
        Form = DestinationForms.Find(Editing.Type) ?? Form;
        Remember(name);
        var (patch, problems) = DestinationForms.Read(Form, f => Request.Form[f].ToString(), editing: true);
        if (problems.Count > 0)
        {
            Error = string.Join(" ", problems);
        }
        else if (await TryAsync(() => destinations.PatchAsync(Project.Id, id, name ?? "", patch, isActive: null, ct)))
        {
            Notice = $"Destination \"{name?.Trim()}\" saved.";
            return Redirect(DashboardRoutes.Destinations(Project.Id));
        }
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostTestAsync(Guid id, CancellationToken ct)
    {
        TestView result;
        try
        {
            result = await destinations.TestAsync(Project.Id, id, ct);
        }
        catch (ApiException)
        {
            return NotFoundPage();
        }
        if (IsFragmentRequest)
        {
            return Partial("/Dashboard/Destinations/_TestResult.cshtml", result);
        }
        TestResults[id] = result;
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostActiveAsync(Guid id, bool active, CancellationToken ct)
    {
        if (await TryAsync(() => destinations.PatchAsync(Project.Id, id, null, null, active, ct)))
        {
            Notice = active ? "Destination enabled." : "Destination disabled: its deliveries fail until it is enabled again.";
        }
        return Redirect(DashboardRoutes.Destinations(Project.Id));
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, CancellationToken ct)
    {
        if (await TryAsync(() => destinations.DeleteAsync(Project.Id, id, ct)))
        {
            Notice = "Destination deleted. Deliveries already queued to it fail as \"destination deleted\".";
        }
        return Redirect(DashboardRoutes.Destinations(Project.Id));
    }

    private void Remember(string? name)
    {
        Values["name"] = name;
        foreach (var field in Form.Fields.Where(f => !f.Secret))
        {
            Values[field.Name] = Request.Form[field.Name].ToString();
        }
    }

    private async Task LoadAsync(CancellationToken ct) =>
        Rows = await db.Destinations.AsNoTracking().Where(d => d.ProjectId == Project.Id).OrderBy(d => d.CreatedAt).ThenBy(d => d.Id).ToListAsync(ct);

    /// <summary>What a stored config says in one line (non-secret values only), for the list.</summary>
    public static string Describe(Destination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var config = DestinationConfigs.Mask(destination.Type, destination.Config);
        if (config.ValueKind != JsonValueKind.Object)
        {
            return "";
        }
        foreach (var key in new[] { "url", "bucket", "host", "container_name", "folder" })
        {
            if (config.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String)
            {
                return v.GetString() ?? "";
            }
        }
        return "";
    }
}
