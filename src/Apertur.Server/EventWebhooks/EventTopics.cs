namespace Apertur.Server.EventWebhooks;

/// <summary>
/// The event topics (docs/api.md "Topics") and the one rule for which subscription receives which event. A subscription name
/// is a canonical topic, an alias of one, or a pattern whose <c>*</c> matches any run of characters (dots included) and
/// must match at least one canonical topic. Subscriptions are stored as the user wrote them and read through this rule.
/// </summary>
/// <remarks>
/// There is no canonical "delivered" or "session completed" topic, and none is invented here: <c>image.delivered</c>,
/// <c>project.upload.image.delivered</c> and <c>session.completed</c> map onto <c>project.upload.completed</c>, the one
/// event that carries an accepted image. Its data says <c>session_completed: true</c> on the upload that completes its
/// session. Per-destination "delivered" messages are the webhook destination's <c>event_json</c> format (docs/webhooks.md).
/// </remarks>
public static class EventTopics
{
    public const string UploadStarted = "project.upload.started";
    public const string UploadCompleted = "project.upload.completed";
    public const string UploadFailed = "project.upload.failed";
    public const string SessionCreated = "project.session.created";
    public const string SessionExpired = "project.session.expired";
    /// <summary>A session was deleted on demand (Sessions/SessionEraser.cs), once.</summary>
    public const string SessionDeleted = "project.session.deleted";
    /// <summary>Accepted in subscriptions; never fired by a self-hosted server (there is no billing).</summary>
    public const string BillingPlanChanged = "project.billing.plan_changed";
    /// <summary>The topic of the test endpoint's event; not a subscription name.</summary>
    public const string WebhookTest = "webhook.test";

    public static readonly IReadOnlyList<string> Canonical =
        [UploadStarted, UploadCompleted, UploadFailed, SessionCreated, SessionExpired, SessionDeleted, BillingPlanChanged];

    /// <summary>Subscription names seen in SDK READMEs and the Odoo plugin, and the canonical topic each one receives.</summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["image.uploaded"] = UploadCompleted,
        ["upload.completed"] = UploadCompleted,
        ["image.delivered"] = UploadCompleted,
        ["session.completed"] = UploadCompleted,
        ["project.upload.image.uploaded"] = UploadCompleted,
        ["project.upload.image.delivered"] = UploadCompleted,
    };

    /// <summary>True when a subscription name is a canonical topic, an alias, or a pattern matching some canonical topic.</summary>
    public static bool IsValidSubscription(string name) =>
        name.Length is > 0 and <= 100
        && (Canonical.Contains(name) || Aliases.ContainsKey(name) || (name.Contains('*', StringComparison.Ordinal) && Canonical.Any(t => Glob(name, t))));

    /// <summary>Whether any of the subscription names receives an event of the canonical <paramref name="topic"/>.</summary>
    public static bool Matches(IEnumerable<string> subscriptions, string topic) => subscriptions.Any(s => Matches(s, topic));

    public static bool Matches(string subscription, string topic) =>
        string.Equals(subscription, topic, StringComparison.Ordinal)
        || (Aliases.TryGetValue(subscription, out var canonical) && canonical == topic)
        || (subscription.Contains('*', StringComparison.Ordinal) && Glob(subscription, topic));

    /// <summary>What a 400 says about valid names.</summary>
    public static string Describe() =>
        $"Valid topics: {string.Join(", ", Canonical)}; aliases: {string.Join(", ", Aliases.Keys)}; " +
        "or a pattern with * over the topics, such as project.upload.* or *.";

    // '*' matches any run of characters; everything else matches itself. Iterative, with one backtrack point.
    private static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
