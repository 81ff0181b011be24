using System.Text.Json;
using System.Text.Json.Nodes;
using Apertur.Destinations;
using Apertur.Server.Destinations;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.UnitTests.Destinations;

/// <summary>
/// Every kind the server registers describes itself completely: its validation accepts a working config and rejects a
/// broken one in words, its form flags exactly its secret fields, and those secrets are encrypted at rest and masked.
/// A new kind fails here until it has samples below.
/// </summary>
public sealed class DestinationKindsTests
{
    /// <summary>Per kind: a config its adapter can deliver with, and one it must refuse.</summary>
    private static readonly Dictionary<string, (string Good, string Bad)> Samples = new(StringComparer.Ordinal)
    {
        ["webhook"] = ("""{"url":"https://example.com/hook","format":"multipart"}""", """{"url":"not a url"}"""),
        ["s3"] = ("""{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"s"}""", """{"region":"eu-west-1"}"""),
        ["azure_blob"] = ("""{"account_name":"acct","container_name":"photos","sas_token":"sv=2023-11-03&sp=cw&sig=abc"}""", """{"account_name":"acct"}"""),
        ["sftp"] = ("""{"host":"files.example.com","username":"u","password":"p"}""", """{"host":"files.example.com"}"""),
        ["ftp"] = ("""{"host":"ftp.example.com","username":"u","password":"p"}""", """{"username":"u"}"""),
        ["webdav"] = ("""{"url":"https://cloud.example.com/remote.php/dav/files/me/"}""", """{"url":"ftp://example.com/"}"""),
        ["google_drive"] = ("""{"folder":"Apertur"}""", """{"folder":5}"""),
        ["dropbox"] = ("""{"folder":"photos"}""", """{"folder":5}"""),
        ["onedrive"] = ("""{"folder":"Apertur"}""", """{"folder":5}"""),
    };

    public static TheoryData<string> Kinds() => [.. ServerKinds.Registry.All.Select(k => k.Kind)];

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static DestinationDescriptor Kind(string kind) => ServerKinds.Registry.Find(kind).ShouldNotBeNull();

    [Fact]
    public void Registry_HoldsEveryShippedKind_FindsAliases()
    {
        ServerKinds.Registry.All.Select(k => k.Kind).Order(StringComparer.Ordinal).ShouldBe(DestinationKinds.All.Order(StringComparer.Ordinal));
        ServerKinds.Registry.Find(" GDrive ")!.Kind.ShouldBe("google_drive");
        ServerKinds.Registry.Find("gcs").ShouldBeNull();
    }

    [Theory, MemberData(nameof(Kinds))]
    public void Validate_AcceptsAGoodSample_RejectsABadOneAndAnEmptyOneInWords(string kind)
    {
        Samples.ShouldContainKey(kind, $"Add a good and a bad sample config for the new kind '{kind}'.");
        var descriptor = Kind(kind);
        descriptor.Validate(Json(Samples[kind].Good)).ShouldBeEmpty();
        var problems = descriptor.Validate(Json(Samples[kind].Bad));
        problems.ShouldNotBeEmpty();
        problems.ShouldAllBe(p => p.Length > 10);
        // Not an object at all: said in words too, never accepted.
        descriptor.Validate(Json("[]")).ShouldNotBeEmpty();
        // Empty: refused in words, unless every field is optional (the drives: connected with OAuth, folder by default).
        if (descriptor.Form!.Fields.Any(f => f.Required) || descriptor.Form.OneOf is { Count: > 0 })
        {
            descriptor.Validate(Json("{}")).ShouldNotBeEmpty();
        }
    }

    /// <summary>The image options (docs/api.md "Image options") are every kind's, without the kind declaring them.</summary>
    [Theory, MemberData(nameof(Kinds))]
    public void ImageOptions_InEveryKindsFormAndValidation(string kind)
    {
        var descriptor = Kind(kind);
        descriptor.Form!.Fields.TakeLast(DeliveryImageOptions.Fields.Count).ShouldBe(DeliveryImageOptions.Fields);
        var good = JsonNode.Parse(Samples[kind].Good)!.AsObject();
        good["convert_heic"] = true;
        good["strip_metadata"] = false;
        good["max_dimension"] = 2048;
        good["jpeg_quality"] = 80;
        good["on_processing_error"] = "original";
        descriptor.Validate(JsonSerializer.SerializeToElement(good)).ShouldBeEmpty();
        DeliveryImageOptions.Read(JsonSerializer.SerializeToElement(good))
            .ShouldBe(new DeliveryImageOptions(true, false, 2048, 80, ProcessingFallback.Original));

        var bad = JsonNode.Parse(Samples[kind].Good)!.AsObject();
        bad["convert_heic"] = "yes";
        bad["max_dimension"] = 0;
        bad["jpeg_quality"] = 101;
        bad["on_processing_error"] = "retry";
        descriptor.Validate(JsonSerializer.SerializeToElement(bad)).ShouldBe([
            "config.convert_heic must be true or false (got \"yes\").",
            "config.max_dimension must be a whole number from 1 to 20000 (got 0).",
            "config.jpeg_quality must be a whole number from 1 to 100 (got 101).",
            "config.on_processing_error must be one of fail, original (got \"retry\").",
        ]);
        DeliveryImageOptions.Read(Json(Samples[kind].Good)).ShouldBe(DeliveryImageOptions.None);
    }

    [Theory, MemberData(nameof(Kinds))]
    public void Form_FlagsExactlyTheSecretFields(string kind)
    {
        var descriptor = Kind(kind);
        descriptor.Form.ShouldNotBeNull();
        descriptor.Form.Fields.Where(f => f.Secret).Select(f => f.Name).Order(StringComparer.Ordinal)
            .ShouldBe(descriptor.SecretFields.Order(StringComparer.Ordinal));
        descriptor.Form.Fields.ShouldAllBe(f => f.Label.Length > 0 && f.Help.Length > 0);
        descriptor.Warnings(Json(Samples[kind].Good)).ShouldNotBeNull();
    }

    [Theory, MemberData(nameof(Kinds))]
    public void Secrets_EncryptedAtRest_MaskedInAnswers_Revealed(string kind)
    {
        var configs = new DestinationConfigs(new EphemeralDataProtectionProvider(), ServerKinds.Registry);
        var descriptor = Kind(kind);
        var config = JsonNode.Parse(Samples[kind].Good)!.AsObject();
        var secrets = descriptor.SecretFields.Concat(descriptor.OtherSecretNames).ToList();
        foreach (var name in secrets)
        {
            config[name] = $"plain-{name}-value";
        }

        var stored = configs.Protect(kind, JsonSerializer.SerializeToElement(config));
        var masked = configs.Mask(kind, stored);
        var revealed = configs.Reveal(stored);
        foreach (var name in secrets)
        {
            stored.ShouldNotContain($"plain-{name}-value");
            masked.GetProperty(name).GetString().ShouldBe(DestinationConfigs.MaskText);
            revealed.GetProperty(name).GetString().ShouldBe($"plain-{name}-value");
        }
        // The rest stays readable.
        foreach (var field in descriptor.Form!.Fields.Where(f => !f.Secret && config.ContainsKey(f.Name)))
        {
            masked.GetProperty(field.Name).GetRawText().ShouldBe(config[field.Name]!.ToJsonString());
        }
    }

    [Fact]
    public void AddDestination_WithoutAForm_Throws()
    {
        var error = Should.Throw<InvalidOperationException>(() => new ServiceCollection().AddDestination(_ => new FormlessDestination()));
        error.Message.ShouldContain("has no form");
    }

    [Fact]
    public void AddDestination_WithSecretFlagsThatDifferFromTheSecretList_Throws()
    {
        var error = Should.Throw<InvalidOperationException>(() => new ServiceCollection().AddDestination(_ => new MismatchedDestination()));
        error.Message.ShouldContain("secret fields");
        Should.Throw<InvalidOperationException>(() => new DestinationKindRegistry([MismatchedDestination.Descriptor]));
    }

    [Fact]
    public void AddDestination_OfATypeAnotherKindClaims_Throws()
    {
        var services = new ServiceCollection().AddDestination(_ => new SoundDestination());
        Should.Throw<InvalidOperationException>(() => services.AddDestination(_ => new ClashingDestination())).Message.ShouldContain("'sound-alias'");
    }

    [Fact]
    public void AddDestination_ClaimingAConnectionTestItHasNot_Throws() =>
        Should.Throw<InvalidOperationException>(() => new ServiceCollection().AddDestination(_ => new BoastingDestination()))
            .Message.ShouldContain("ConnectionTest");

    [Fact]
    public void AddDestination_Complete_RegistersAdapterAndKind()
    {
        using var provider = new ServiceCollection().AddDestination(_ => new SoundDestination()).BuildServiceProvider();
        provider.GetRequiredService<DestinationKindRegistry>().Find("SOUND-ALIAS")!.Kind.ShouldBe("sound");
        provider.GetServices<IDestination>().ShouldHaveSingleItem().Kind.ShouldBe("sound");
    }

    private static IReadOnlyList<string> NoProblems(JsonElement config) => [];

    private abstract class FakeDestination : IDestination
    {
        public abstract string Kind { get; }

        public Task<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken ct) =>
            Task.FromResult<DeliveryResult>(new DeliveryResult.Delivered("nowhere"));
    }

    private sealed class FormlessDestination : FakeDestination, IDescribedDestination
    {
        public static DestinationDescriptor Descriptor { get; } = new("formless", "Formless", "No form.", NoProblems, Form: null, SecretFields: []);

        public override string Kind => "formless";
    }

    private sealed class MismatchedDestination : FakeDestination, IDescribedDestination
    {
        // "api_key" is declared secret, but the form shows it as a plain field: it would be stored in clear.
        public static DestinationDescriptor Descriptor { get; } = new("mismatched", "Mismatched", "Secret flag missing.", NoProblems,
            new([new FormField("api_key", "API key", "The key.")]), SecretFields: ["api_key"]);

        public override string Kind => "mismatched";
    }

    private sealed class SoundDestination : FakeDestination, IDescribedDestination
    {
        public static DestinationDescriptor Descriptor { get; } = new("sound", "Sound", "Complete.", NoProblems,
            new([new FormField("api_key", "API key", "The key.", Secret: true)]), SecretFields: ["api_key"])
        {
            Aliases = ["sound-alias"],
        };

        public override string Kind => "sound";
    }

    private sealed class BoastingDestination : FakeDestination, IDescribedDestination
    {
        // Says it can test its connection, but does not implement IConnectionTestable: the dashboard would offer a dead button.
        public static DestinationDescriptor Descriptor { get; } = new("boasting", "Boasting", "Claims a test.", NoProblems, new([]), SecretFields: [])
        {
            ConnectionTest = true,
        };

        public override string Kind => "boasting";
    }

    private sealed class ClashingDestination : FakeDestination, IDescribedDestination
    {
        public static DestinationDescriptor Descriptor { get; } = new("clashing", "Clashing", "Takes another kind's alias.", NoProblems,
            new([]), SecretFields: [])
        {
            Aliases = ["sound-alias"],
        };

        public override string Kind => "clashing";
    }
}
