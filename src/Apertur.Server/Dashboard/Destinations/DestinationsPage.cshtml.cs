using Apertur.Destinations;
using System.Text.Json;
using Apertur.Server.CloudDrives;
using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Destinations;

/// <summary>
/// Destinations: add and edit each kind with the form its <see cref="DestinationForms"/> entry describes, test the connection
/// (the same <see cref="DestinationService.TestAsync"/> as POST …/destinations/{id}/test, answered in place), enable,
/// disable, delete; drives are connected with OAuth (<see cref="ConnectPageModel"/>), their connection shown and disconnected
/// through <see cref="OAuthFlows"/>, as the API's …/oauth endpoints do. Members may only test.
/// </summary>
public sealed class DestinationsPageModel(AperturDb db, DestinationService destinations, OAuthFlows flows, DestinationForms forms, DestinationConfigs configs,
    DestinationKindRegistry kinds) : ProjectPageModel
{
    public IReadOnlyList<Destination> Rows { get; private set; } = [];

    /// <summary>The kind of the add form.</summary>
    public DestinationForm Form { get; private set; } = forms.All[0];

    /// <summary>The form of every registered kind.</summary>
    public DestinationForms Forms => forms;

    /// <summary>The destination being edited, if any.</summary>
    public Destination? Editing { get; private set; }

    /// <summary>Values to put back in the form (never secrets).</summary>
    public Dictionary<string, string?> Values { get; } = new(StringComparer.Ordinal);

    public Dictionary<Guid, TestView> TestResults { get; } = [];

    /// <summary>The OAuth connection of each drive destination.</summary>
    public IReadOnlyDictionary<Guid, ConnectionView> Connections { get; private set; } = new Dictionary<Guid, ConnectionView>();

    /// <summary>How the connect flow the person just came back from ended, when it connected.</summary>
    public string? OAuthNotice { get; private set; }

    public string? Value(FormField field) => Values.TryGetValue(field.Name, out var v) ? v
        : Editing is { } d && d.Type == Form.Kind ? DestinationForms.Shown(field, configs.Mask(d.Type, d.Config)) : null;

    protected override bool MemberMayPost(string? handler) => handler == "Test";

    protected override async Task<IActionResult?> BeforeHandlerAsync(PageHandlerExecutingContext context)
    {
        if (await base.BeforeHandlerAsync(context) is { } early)
        {
            return early;
        }
        // "Connect" posts to the connect page, which redirects to the provider's consent page: allow that in form-action.
        DashboardHeaders.Apply(Response, flows.AuthorizeOrigins());
        return null;
    }

    public async Task<IActionResult> OnGetAsync(string? kind, Guid? edit, CancellationToken ct)
    {
        if (edit is { } id)
        {
            Editing = await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.ProjectId == Project.Id, ct);
            if (Editing is null)
            {
                return NotFoundPage();
            }
            Form = forms.Find(Editing.Type) ?? Form;
        }
        else if (forms.Find(kind) is { } form)
        {
            Form = form;
        }
        await LoadAsync(ct);
        ShowOAuthOutcome();
        return Page();
    }

    public async Task<IActionResult> OnPostCreateAsync(string? kind, string? name, CancellationToken ct)
    {
        Form = forms.Find(kind) ?? Form;
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
        Form = forms.Find(Editing.Type) ?? Form;
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

    public async Task<IActionResult> OnPostDisconnectAsync(Guid id, CancellationToken ct)
    {
        var destination = await db.Destinations.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.ProjectId == Project.Id, ct);
        if (destination is null || !flows.IsOAuth(destination.Type))
        {
            return NotFoundPage();
        }
        await flows.DisconnectAsync(destination, ct);
        Notice = $"\"{destination.Name}\" disconnected from its {kinds.DisplayName(destination.Type)} account: its deliveries wait until it is connected again.";
        return Redirect(DashboardRoutes.Destinations(Project.Id));
    }

    /// <summary>
    /// The outcome a finished connect flow put in the query (<see cref="DashboardRoutes.WithOAuthOutcome"/>), in words. "Connected"
    /// is believed only when the stored connection says so, and an error is only ever one of the known sentences, so a crafted
    /// link cannot make the page say anything else.
    /// </summary>
    private void ShowOAuthOutcome()
    {
        var query = Request.Query;
        if (!Guid.TryParse(query[DashboardRoutes.OAuthDestinationParameter].ToString(), out var id)
            || Rows.FirstOrDefault(d => d.Id == id) is not { } destination || !Connections.TryGetValue(id, out var connection))
        {
            return;
        }
        var provider = kinds.DisplayName(destination.Type);
        switch (query[DashboardRoutes.OAuthOutcomeParameter].ToString())
        {
            case "connected" when connection.Status == OAuthConnectionStatus.Connected:
                OAuthNotice = $"{provider} connected as {connection.Account ?? "the account you signed in to"}: \"{destination.Name}\" delivers there now.";
                break;
            case "error":
                Error = $"{provider} was not connected to \"{destination.Name}\": {Words(query[DashboardRoutes.OAuthErrorParameter].ToString())}";
                break;
        }
    }

    internal static string Words(string error) => error switch
    {
        "access_denied" => "access was not granted on the consent page.",
        "state_expired_or_used" => "the connect link was already used or has expired. Press Connect again.",
        "missing_code" => "the provider sent no authorization code back. Press Connect again.",
        "destination_not_found" => "the destination was deleted or changed meanwhile.",
        "no_refresh_token" => "the provider issued no refresh token. Remove this app's access in the account's security settings, then connect again.",
        "provider_unavailable" => "the provider could not be reached. Try again.",
        "state_unreadable" => "this server cannot read the connect state. Press Connect again.",
        { Length: > 0 and <= 64 } code when code.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') => $"the provider answered {code}.",
        _ => "the provider answered with an error.",
    };

    private void Remember(string? name)
    {
        Values["name"] = name;
        foreach (var field in Form.Fields.Where(f => !f.Secret))
        {
            Values[field.Name] = Request.Form[field.Name].ToString();
        }
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Rows = await db.Destinations.AsNoTracking().Where(d => d.ProjectId == Project.Id).OrderBy(d => d.CreatedAt).ThenBy(d => d.Id).ToListAsync(ct);
        Connections = await flows.ConnectionsAsync(Rows, ct);
    }

    /// <summary>What a stored config says in one line (non-secret values only), for the list.</summary>
    public string Describe(Destination destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var config = configs.Mask(destination.Type, destination.Config);
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
