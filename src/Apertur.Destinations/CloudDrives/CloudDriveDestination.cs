using System.Globalization;
using System.Text.Json;
using Apertur.Destinations.OAuth;
using Apertur.Destinations.Paths;
using Apertur.Destinations.Webhooks;
using Apertur.Destinations.Storage;

namespace Apertur.Destinations.CloudDrives;

/// <summary>
/// What the three OAuth-connected drives (Google Drive, Dropbox, OneDrive) share: the access token of the destination's
/// grant, a deadline for the whole attempt, and the translation of every way an attempt can end into a
/// <see cref="DeliveryResult"/> or a connection test answer. A grant that is missing or needs reconnecting leaves the
/// delivery retrying (it is not the image's fault, and a reconnect makes it due again); so do unreachable providers and
/// throttling. Only what the operator must change (a missing folder, a full drive, no permission) is rejected.
/// </summary>
public abstract class CloudDriveDestination : IDestination, IConnectionTestable, IOAuthDestination
{
    private readonly CloudDriveTuning _tuning;

    private protected CloudDriveDestination(HttpClient http, TimeProvider time, IOAuthGrantStore grants, OAuthApp app, CloudDriveTuning tuning, string providerName)
    {
        _tuning = tuning;
        Time = time;
        ProviderName = providerName;
        OAuth = new OAuthClient(http, app);
        Tokens = new AccessTokens(OAuth, grants, time, tuning.RefreshBefore);
        Http = new ProviderHttp(http, time, tuning, providerName);
    }

    public abstract string Kind { get; }

    public OAuthClient OAuth { get; }

    /// <summary>"Google Drive", "Dropbox", "OneDrive": how messages name the provider.</summary>
    public string ProviderName { get; }

    internal AccessTokens Tokens { get; }

    internal ProviderHttp Http { get; }

    internal TimeProvider Time { get; }

    public abstract Task<string?> DescribeAccountAsync(string accessToken, CancellationToken ct);

    /// <summary>The config's problems in words; empty when the kind can deliver with it.</summary>
    public abstract IReadOnlyList<string> Check(JsonElement config);

    private protected abstract Task<DeliveryResult> DeliverCoreAsync(DeliveryRequest request, AccessSession auth, CancellationToken ct);

    private protected abstract Task<ConnectionTestResult> TestCoreAsync(DestinationTarget target, AccessSession auth, CancellationToken ct);

    public async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Check(request.Target.Config) is { Count: > 0 } problems)
        {
            return new DeliveryResult.Rejected($"Invalid {Kind} config: " + string.Join(" ", problems));
        }
        using var deadline = new CancellationTokenSource(_tuning.AttemptTimeout, Time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            var auth = await Tokens.OpenAsync(request.Target.Id, attempt.Token).ConfigureAwait(false);
            return await DeliverCoreAsync(request, auth, attempt.Token).ConfigureAwait(false);
        }
        catch (DeliveryStop stop)
        {
            return stop.Result;
        }
        catch (OAuthGrantException e)
        {
            return new DeliveryResult.RetryLater(e.Message, e.RetryAfter, Throttled: false, MinimumWait: e.RetryAfter);
        }
        catch (ProviderUnreachableException e)
        {
            return e.Permanent ? new DeliveryResult.Rejected(e.Message) : new DeliveryResult.RetryLater(e.Message);
        }
        catch (ImageSourceException e)
        {
            return new DeliveryResult.RetryLater($"Could not read the image: {e.Message}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeliveryResult.RetryLater(
                $"Timed out: the attempt to deliver to {ProviderName} took more than {_tuning.AttemptTimeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s",
                Throttled: true);
        }
    }

    /// <summary>The account, the folder and a write-permission check, in words; never throws for a provider's answer.</summary>
    public async Task<ConnectionTestResult> TestAsync(DestinationTarget target, ProjectSigning signing, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (Check(target.Config) is { Count: > 0 } problems)
        {
            return new ConnectionTestResult(false, $"Invalid {Kind} config: " + string.Join(" ", problems));
        }
        using var deadline = new CancellationTokenSource(_tuning.AttemptTimeout, Time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            var auth = await Tokens.OpenAsync(target.Id, attempt.Token).ConfigureAwait(false);
            return await TestCoreAsync(target, auth, attempt.Token).ConfigureAwait(false);
        }
        catch (DeliveryStop stop)
        {
            return new ConnectionTestResult(false, stop.Message, stop.Result.StatusCode);
        }
        catch (Exception e) when (e is OAuthGrantException or ProviderUnreachableException)
        {
            return new ConnectionTestResult(false, e.Message);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ConnectionTestResult(false, $"Timed out waiting for {ProviderName}");
        }
    }

    /// <summary>The image's path below the destination's folder: the subfolder template and the file name template, rendered.</summary>
    internal static IReadOnlyList<string> RenderPath(CloudPathTemplates templates, DeliveryImage image, string folder) =>
        PathTemplate.Render(templates.Subfolder + "/" + templates.Filename, image, new Dictionary<string, string> { ["folder"] = folder }).Split('/');

    /// <summary>A small file to prove write permission in connection tests; deleted right after.</summary>
    internal static byte[] ProbeBytes(TimeProvider time) =>
        System.Text.Encoding.UTF8.GetBytes($"Apertur connection test {time.GetUtcNow():O}\n");

    internal const string ProbeName = ".apertur-connection-test.txt";
}

/// <summary>The two templates every drive config has: the subfolder (below the destination's folder) and the file name.</summary>
internal sealed record CloudPathTemplates(string Subfolder, string Filename)
{
    public const string DefaultFilename = "{image_index}.{ext}";

    /// <summary>Reads <c>subfolder_template</c> and <c>filename_template</c>, adding what is wrong to <paramref name="problems"/>.</summary>
    public static CloudPathTemplates Read(JsonElement config, string defaultSubfolder, List<string> problems)
    {
        var subfolder = ConfigText.Optional(config, "subfolder_template", problems) ?? defaultSubfolder;
        var filename = ConfigText.Optional(config, "filename_template", problems) ?? DefaultFilename;
        string[] extra = ["folder"];
        if (PathTemplate.Check(subfolder, "subfolder_template", extra) is { } subfolderProblem)
        {
            problems.Add(subfolderProblem);
        }
        if (PathTemplate.Check(filename, "filename_template", extra) is { } filenameProblem)
        {
            problems.Add(filenameProblem);
        }
        return new CloudPathTemplates(subfolder, filename);
    }
}

/// <summary>Reading optional string fields of a config with problems in words.</summary>
internal static class ConfigText
{
    public static string? Optional(JsonElement config, string name, List<string> problems)
    {
        if (!config.TryGetProperty(name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"config.{name} must be a string (got {value.GetRawText()}).");
            return null;
        }
        var text = value.GetString()!.Trim();
        return text.Length == 0 ? null : text;
    }

    public static bool IsObject(JsonElement config, List<string> problems)
    {
        if (config.ValueKind == JsonValueKind.Object)
        {
            return true;
        }
        problems.Add("config must be a JSON object.");
        return false;
    }
}
