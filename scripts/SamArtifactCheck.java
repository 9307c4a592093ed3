/*
 * Verifies `sam build` output for runnerscale: every Lambda function must run from ONLY its
 * own artifact plus the layer's java/lib/*.jar, exactly what the Lambda java runtime puts on
 * the class path (/var/task, /var/task/lib/*, /opt/java/lib/*).
 *
 * Run through scripts/check-sam-artifacts.sh (Java >= 21 single-file source launch):
 *   java SamArtifactCheck.java --build-dir .aws-sam/build --java 21 --layer CoreLayer \
 *        --function WebhookFunction=io.runnerscale.webhook.WebhookHandler::handleRequest ...
 *
 * Checks, per function:
 *  - the artifact holds classes, no jars (libraries belong in the layer) and no class that the
 *    layer also has (a copy of core would shadow the layer's);
 *  - the handler class is loadable (not initialized: that could build AWS clients), public,
 *    concrete, with a public no-arg constructor and a public handleRequest method;
 *  - every class referenced from the function's classes, and transitively from the
 *    io.runnerscale classes they reach in the layer, resolves against function + layer (plus
 *    the JDK), and so does every method/field they use (catches a library missing from the
 *    layer, a test-scoped dependency used in main code, and version skew);
 *  - all declared methods/fields/constructors of those classes link (their signature types).
 * And for the layer: java/lib holds exactly one runnerscale-core jar, no -tests/-sources jar,
 * no class compiled for a newer Java than the Lambda runtime, no class in two jars, an SLF4J
 * API that matches its backend (else every log line is silently dropped); plus the 250 MB
 * unzipped limit for function + layer.
 * Exit status 1 with a list of problems when anything fails.
 */
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodType;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

public class SamArtifactCheck {

    static final long LAMBDA_UNZIPPED_LIMIT = 262_144_000L; // 250 MB, function + all layers
    static final String OWN_PACKAGE = "io/runnerscale/";
    static final int MAX_LISTED = 12; // per function and kind, so one missing jar does not flood the output

    final List<String> errors = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        Path buildDir = null;
        int javaFeature = 21;
        List<String> layers = new ArrayList<>();
        Map<String, String> functions = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--build-dir" -> buildDir = Path.of(args[++i]);
                case "--java" -> javaFeature = Integer.parseInt(args[++i]);
                case "--layer" -> layers.add(args[++i]);
                case "--function" -> {
                    String[] kv = args[++i].split("=", 2);
                    functions.put(kv[0], kv[1]);
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (buildDir == null || functions.isEmpty()) {
            System.err.println("usage: SamArtifactCheck --build-dir DIR [--java 21] --layer ID... --function ID=Class::method...");
            System.exit(2);
        }
        SamArtifactCheck check = new SamArtifactCheck();
        check.run(buildDir, javaFeature, layers, functions);
        for (String w : check.warnings) System.out.println("WARN  " + w);
        for (String e : check.errors) System.out.println("ERROR " + e);
        if (!check.errors.isEmpty()) {
            System.out.println("check-sam-artifacts: FAILED (" + check.errors.size() + " error(s))");
            System.exit(1);
        }
        System.out.println("check-sam-artifacts: OK");
    }

    void run(Path buildDir, int javaFeature, List<String> layerIds, Map<String, String> functions) throws Exception {
        int maxMajor = 44 + javaFeature; // class file major version of the Lambda runtime (21 -> 65)

        // ---------------------------------------------------------------- layers
        List<Path> layerJars = new ArrayList<>();
        long layerBytes = 0;
        for (String id : layerIds) {
            Path root = buildDir.resolve(id);
            Path lib = root.resolve("java/lib");
            if (!Files.isDirectory(lib)) {
                errors.add("layer " + id + ": " + lib + " is missing (a Java layer must unpack to /opt/java/lib)");
                continue;
            }
            try (Stream<Path> s = Files.list(root)) {
                s.filter(p -> !p.getFileName().toString().equals("java"))
                 .forEach(p -> warnings.add("layer " + id + ": unexpected entry " + p.getFileName() + " next to java/"));
            }
            List<Path> jars;
            try (Stream<Path> s = Files.list(lib)) {
                jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
            }
            if (jars.isEmpty()) errors.add("layer " + id + ": no jars in java/lib");
            long cores = jars.stream().filter(p -> p.getFileName().toString().startsWith("runnerscale-core-")).count();
            for (Path j : jars) {
                String n = j.getFileName().toString();
                if (n.matches(".*-(tests|test-sources|sources|javadoc)\\.jar")) {
                    errors.add("layer " + id + ": " + n + " does not belong in the runtime layer");
                }
            }
            if (cores != 1) errors.add("layer " + id + ": expected exactly one runnerscale-core-*.jar in java/lib, found " + cores);
            layerJars.addAll(jars);
            layerBytes += sizeOf(root);
        }
        Map<String, String> layerClasses = indexLayer(layerJars, maxMajor, javaFeature);
        checkSlf4j(layerJars);
        System.out.printf("layer: %d jars, %d classes, %.1f MB%n", layerJars.size(), layerClasses.size(), layerBytes / 1e6);

        // ---------------------------------------------------------------- functions
        for (Map.Entry<String, String> f : functions.entrySet()) {
            checkFunction(buildDir, f.getKey(), f.getValue(), layerJars, layerClasses, layerBytes, maxMajor);
        }
    }

    /** class name -> jar name, for every class in the layer; flags duplicates and too-new class files. */
    Map<String, String> indexLayer(List<Path> jars, int maxMajor, int javaFeature) throws IOException {
        Map<String, String> owner = new HashMap<>();
        Map<String, Set<String>> dupJarPairs = new TreeMap<>();
        Pattern versioned = Pattern.compile("META-INF/versions/(\\d+)/(.+)");
        for (Path jar : jars) {
            String jarName = jar.getFileName().toString();
            try (JarFile jf = new JarFile(jar.toFile())) {
                var en = jf.entries();
                while (en.hasMoreElements()) {
                    ZipEntry e = en.nextElement();
                    String name = e.getName();
                    if (!name.endsWith(".class") || name.endsWith("module-info.class")) continue;
                    Matcher m = versioned.matcher(name);
                    if (m.matches()) {
                        // Only versions the runtime will actually use matter.
                        if (Integer.parseInt(m.group(1)) > javaFeature) continue;
                    } else if (name.startsWith("META-INF/")) {
                        continue;
                    } else {
                        String cls = name.substring(0, name.length() - 6);
                        String prev = owner.putIfAbsent(cls, jarName);
                        if (prev != null && !prev.equals(jarName)) {
                            dupJarPairs.computeIfAbsent(prev + " and " + jarName, k -> new TreeSet<>()).add(cls);
                        }
                    }
                    try (InputStream in = jf.getInputStream(e)) {
                        byte[] head = in.readNBytes(8);
                        if (head.length == 8) {
                            int major = ((head[6] & 0xff) << 8) | (head[7] & 0xff);
                            if (major > maxMajor) {
                                errors.add("layer: " + name + " in " + jarName + " is compiled for Java " + (major - 44)
                                        + ", the runtime is Java " + javaFeature);
                            }
                        }
                    }
                }
            }
        }
        dupJarPairs.forEach((pair, classes) -> errors.add("layer: " + classes.size() + " class(es) in both " + pair
                + " (e.g. " + classes.iterator().next().replace('/', '.') + "); which one loads depends on jar order"));
        return owner;
    }

    /**
     * SLF4J 1.x finds its backend through org.slf4j.impl.StaticLoggerBinder, 2.x through a
     * ServiceLoader provider; a 1.x API with only a 2.x provider (or the reverse) silently
     * drops every log line (NOP logger), which no class resolution check notices.
     */
    void checkSlf4j(List<Path> jars) throws IOException {
        String api = null;
        boolean apiV2 = false;
        List<String> v1Bindings = new ArrayList<>();
        List<String> v2Providers = new ArrayList<>();
        for (Path jar : jars) {
            try (JarFile jf = new JarFile(jar.toFile())) {
                String n = jar.getFileName().toString();
                if (jf.getEntry("org/slf4j/LoggerFactory.class") != null) {
                    api = n;
                    apiV2 = jf.getEntry("org/slf4j/spi/SLF4JServiceProvider.class") != null;
                }
                if (jf.getEntry("org/slf4j/impl/StaticLoggerBinder.class") != null) v1Bindings.add(n);
                if (jf.getEntry("META-INF/services/org.slf4j.spi.SLF4JServiceProvider") != null) v2Providers.add(n);
            }
        }
        if (api == null) return;
        if (!apiV2 && v1Bindings.isEmpty() && !v2Providers.isEmpty()) {
            errors.add("layer: " + api + " is SLF4J 1.x but the backend " + v2Providers
                    + " is an SLF4J 2 provider: all SLF4J logging would go to the NOP logger (pin org.slf4j:slf4j-api 2.x)");
        } else if (apiV2 && v2Providers.isEmpty() && !v1Bindings.isEmpty()) {
            errors.add("layer: " + api + " is SLF4J 2 but the backend " + v1Bindings
                    + " is an SLF4J 1.x binding: all SLF4J logging would go to the NOP logger");
        } else if (v1Bindings.isEmpty() && v2Providers.isEmpty()) {
            warnings.add("layer: " + api + " has no SLF4J backend: SLF4J logging goes to the NOP logger");
        }
    }

    void checkFunction(Path buildDir, String id, String handler, List<Path> layerJars,
                       Map<String, String> layerClasses, long layerBytes, int maxMajor) throws Exception {
        Path root = buildDir.resolve(id);
        String where = "function " + id + ": ";
        if (!Files.isDirectory(root)) {
            errors.add(where + root + " is missing");
            return;
        }
        // Function's own classes; jars do not belong here.
        Map<String, Path> fnClasses = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        for (Path p : files) {
            String rel = root.relativize(p).toString().replace('\\', '/');
            if (rel.endsWith(".jar")) {
                errors.add(where + "contains " + rel + ": libraries belong in the layer (java/lib), not in the function");
            } else if (rel.endsWith(".class") && !rel.endsWith("module-info.class")) {
                String cls = rel.substring(0, rel.length() - 6);
                fnClasses.put(cls, p);
                String inLayer = layerClasses.get(cls);
                if (inLayer != null) {
                    errors.add(where + cls.replace('/', '.') + " is also in layer jar " + inLayer
                            + ": layer code must not be copied into the function");
                }
            }
        }
        long fnBytes = sizeOf(root);
        if (fnBytes + layerBytes > LAMBDA_UNZIPPED_LIMIT) {
            errors.add(where + String.format("function + layer = %.1f MB unzipped, over Lambda's 250 MB limit",
                    (fnBytes + layerBytes) / 1e6));
        }
        if (fnClasses.isEmpty()) {
            errors.add(where + "no classes in " + root);
            return;
        }

        // Class loader that sees only function + layer (+ the platform, i.e. the JDK).
        List<URL> urls = new ArrayList<>();
        urls.add(root.toUri().toURL());
        for (Path j : layerJars) urls.add(j.toUri().toURL());
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            checkHandler(where, handler, fnClasses, loader);
            checkLinkage(where, fnClasses, loader, maxMajor);
        }
        System.out.printf("function %s: %d classes, %.1f MB, handler %s%n", id, fnClasses.size(), fnBytes / 1e6, handler);
    }

    void checkHandler(String where, String handler, Map<String, Path> fnClasses, ClassLoader loader) {
        String[] parts = handler.split("::", 2);
        String className = parts[0];
        String method = parts.length > 1 ? parts[1] : "handleRequest";
        if (!fnClasses.containsKey(className.replace('.', '/'))) {
            errors.add(where + "handler class " + className + " is not in the function artifact");
        }
        Class<?> c;
        try {
            c = Class.forName(className, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            errors.add(where + "handler class " + className + " cannot be loaded: " + e);
            return;
        }
        int mod = c.getModifiers();
        if (!Modifier.isPublic(mod) || Modifier.isAbstract(mod) || c.isInterface()) {
            errors.add(where + "handler class " + className + " must be a public concrete class");
        }
        try {
            List<Method> candidates = new ArrayList<>();
            for (Method m : c.getMethods()) if (m.getName().equals(method) && !m.isBridge()) candidates.add(m);
            if (candidates.isEmpty()) {
                errors.add(where + "handler class " + className + " has no public method " + method);
                return;
            }
            boolean instance = candidates.stream().anyMatch(m -> !Modifier.isStatic(m.getModifiers()));
            if (instance) {
                try {
                    if (!Modifier.isPublic(c.getConstructor().getModifiers())) throw new NoSuchMethodException();
                } catch (NoSuchMethodException e) {
                    errors.add(where + "handler class " + className + " needs a public no-argument constructor");
                }
            }
            Set<String> kinds = new TreeSet<>();
            for (Class<?> i : allInterfaces(c)) {
                if (i.getName().startsWith("com.amazonaws.services.lambda.runtime.Request")) kinds.add(i.getSimpleName());
            }
            System.out.println(where + "handler " + className + "::" + method + " "
                    + (kinds.isEmpty() ? "(plain method)" : kinds) + " " + candidates.get(0));
        } catch (LinkageError e) {
            errors.add(where + "handler class " + className + " does not link: " + e);
        }
    }

    /** Walks the constant pools of the function's classes and of the io.runnerscale layer classes they reach. */
    void checkLinkage(String where, Map<String, Path> fnClasses, ClassLoader loader, int maxMajor) throws IOException {
        Deque<String> queue = new ArrayDeque<>(fnClasses.keySet());
        Set<String> seen = new HashSet<>(fnClasses.keySet());
        Map<String, Set<String>> missingClasses = new TreeMap<>();
        Map<String, Set<String>> missingMembers = new TreeMap<>();
        Map<String, Boolean> externalResolves = new HashMap<>();
        Map<String, Boolean> memberFound = new HashMap<>();
        int own = 0;
        int unverifiable = 0;
        while (!queue.isEmpty()) {
            String cls = queue.poll();
            String from = cls.replace('/', '.');
            byte[] bytes = readClass(cls, fnClasses, loader);
            if (bytes == null) continue; // an io.runnerscale class nowhere on the class path: reported below
            own++;
            ClassRefs refs = ClassRefs.parse(bytes);
            if (refs.major > maxMajor) {
                errors.add(where + from + " is compiled for Java " + (refs.major - 44) + ", newer than the runtime");
            }
            for (String ref : refs.classes) {
                boolean ownCode = ref.startsWith(OWN_PACKAGE);
                if (ownCode && seen.add(ref)) queue.add(ref);
                if (!externalResolves.computeIfAbsent(ref, r -> resolves(r, loader))) {
                    missingClasses.computeIfAbsent(ref.replace('/', '.'), k -> new TreeSet<>()).add(from);
                }
            }
            for (MemberRef m : refs.members) {
                if (m.owner().startsWith("[") || isSignaturePolymorphic(m)) continue;
                String key = m.owner() + "." + m.name() + m.desc();
                Boolean found = memberFound.get(key);
                if (found == null && !memberFound.containsKey(key)) {
                    Class<?> owner = load(m.owner(), loader);
                    found = owner == null ? Boolean.TRUE /* reported as a missing class */ : hasMember(owner, m);
                    memberFound.put(key, found);
                    if (found == null) unverifiable++;
                }
                if (found == Boolean.FALSE) {
                    String shown = m.owner().replace('/', '.') + "." + m.name() + (m.kind() == 9 ? ":" : "") + m.desc();
                    missingMembers.computeIfAbsent(shown, k -> new TreeSet<>()).add(from);
                }
            }
            // Force linkage of every declared signature (parameter, return and field types).
            Class<?> c = load(cls, loader);
            if (c != null) {
                try {
                    c.getDeclaredMethods();
                    c.getDeclaredFields();
                    c.getDeclaredConstructors();
                } catch (LinkageError | TypeNotPresentException e) {
                    errors.add(where + from + " does not link: " + e);
                }
            }
        }
        int shown = 0;
        for (var e : missingClasses.entrySet()) {
            if (shown++ == MAX_LISTED) break;
            errors.add(where + "class " + e.getKey() + " not found in function or layer (referenced from "
                    + String.join(", ", limit(e.getValue())) + ")");
        }
        if (missingClasses.size() > MAX_LISTED) {
            errors.add(where + (missingClasses.size() - MAX_LISTED) + " more classes not found (packages: "
                    + String.join(", ", limit(new TreeSet<>(missingClasses.keySet().stream()
                            .map(c -> c.substring(0, Math.max(0, c.lastIndexOf('.')))).toList()))) + ")");
        }
        shown = 0;
        for (var e : missingMembers.entrySet()) {
            if (shown++ == MAX_LISTED) break;
            errors.add(where + "member " + e.getKey() + " not found (a different library version?) (used by "
                    + String.join(", ", limit(e.getValue())) + ")");
        }
        if (missingMembers.size() > MAX_LISTED) {
            errors.add(where + (missingMembers.size() - MAX_LISTED) + " more members not found");
        }
        System.out.println(where + "checked " + own + " own classes (function + io.runnerscale in layer): "
                + externalResolves.size() + " referenced classes, " + memberFound.size() + " members"
                + (unverifiable > 0 ? " (" + unverifiable + " in libraries whose members cannot be listed, skipped)" : ""));
    }

    static List<String> limit(Set<String> s) {
        List<String> l = new ArrayList<>(s);
        return l.size() <= 3 ? l : List.of(l.get(0), l.get(1), l.get(2), "... " + (l.size() - 3) + " more");
    }

    static boolean isSignaturePolymorphic(MemberRef m) {
        return m.kind != 9 && (m.owner.equals("java/lang/invoke/MethodHandle") || m.owner.equals("java/lang/invoke/VarHandle"));
    }

    static byte[] readClass(String cls, Map<String, Path> fnClasses, ClassLoader loader) throws IOException {
        Path p = fnClasses.get(cls);
        if (p != null) return Files.readAllBytes(p);
        try (InputStream in = loader.getResourceAsStream(cls + ".class")) {
            return in == null ? null : in.readAllBytes();
        }
    }

    static boolean resolves(String cls, ClassLoader loader) {
        return load(cls, loader) != null;
    }

    static Class<?> load(String cls, ClassLoader loader) {
        try {
            return Class.forName(cls.replace('/', '.'), false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    /** TRUE/FALSE, or null when the owner's members cannot be listed (an optional dependency of that library). */
    static Boolean hasMember(Class<?> owner, MemberRef m) {
        try {
            if (m.kind == 9) { // field
                for (Class<?> c : hierarchy(owner)) {
                    for (var f : c.getDeclaredFields()) {
                        if (f.getName().equals(m.name) && descriptor(f.getType()).equals(m.desc)) return true;
                    }
                }
                return false;
            }
            if (m.name.equals("<init>")) {
                for (var k : owner.getDeclaredConstructors()) if (descriptor(k).equals(m.desc)) return true;
                return false;
            }
            if (m.name.equals("<clinit>")) return true;
            for (Class<?> c : hierarchy(owner)) {
                for (Method x : c.getDeclaredMethods()) {
                    if (x.getName().equals(m.name) && descriptor(x).equals(m.desc)) return true;
                }
            }
            return false;
        } catch (LinkageError | SecurityException e) {
            return null;
        }
    }

    static List<Class<?>> hierarchy(Class<?> c) {
        List<Class<?>> out = new ArrayList<>();
        for (Class<?> k = c; k != null; k = k.getSuperclass()) out.add(k);
        out.addAll(allInterfaces(c));
        if (c.isInterface()) out.add(Object.class);
        return out;
    }

    static Set<Class<?>> allInterfaces(Class<?> c) {
        Set<Class<?>> out = new LinkedHashSet<>();
        Deque<Class<?>> todo = new ArrayDeque<>();
        for (Class<?> k = c; k != null; k = k.getSuperclass()) todo.addAll(List.of(k.getInterfaces()));
        while (!todo.isEmpty()) {
            Class<?> i = todo.poll();
            if (out.add(i)) todo.addAll(List.of(i.getInterfaces()));
        }
        return out;
    }

    static String descriptor(Class<?> t) {
        return MethodType.methodType(t).toMethodDescriptorString().substring(2); // "()X" -> "X"
    }

    static String descriptor(Executable e) {
        Class<?> ret = e instanceof Method m ? m.getReturnType() : void.class;
        return MethodType.methodType(ret, e.getParameterTypes()).toMethodDescriptorString();
    }

    static long sizeOf(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    record MemberRef(int kind, String owner, String name, String desc) {}

    /** The class references of one class file: constant pool classes, member descriptors, member refs. */
    static final class ClassRefs {
        int major;
        final Set<String> classes = new TreeSet<>();
        final List<MemberRef> members = new ArrayList<>();
        static final Pattern OBJECT_TYPE = Pattern.compile("L([^;<]+);");

        static ClassRefs parse(byte[] bytes) throws IOException {
            ClassRefs r = new ClassRefs();
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            if (in.readInt() != 0xCAFEBABE) throw new IOException("not a class file");
            in.readUnsignedShort();
            r.major = in.readUnsignedShort();
            int n = in.readUnsignedShort();
            Object[] utf = new Object[n];
            int[] tag = new int[n];
            int[] a = new int[n];
            int[] b = new int[n];
            for (int i = 1; i < n; i++) {
                tag[i] = in.readUnsignedByte();
                switch (tag[i]) {
                    case 1 -> utf[i] = in.readUTF();
                    case 3, 4 -> in.readInt();
                    case 5, 6 -> { in.readLong(); i++; }
                    case 7, 8, 16, 19, 20 -> a[i] = in.readUnsignedShort();
                    case 9, 10, 11, 12, 17, 18 -> { a[i] = in.readUnsignedShort(); b[i] = in.readUnsignedShort(); }
                    case 15 -> { a[i] = in.readUnsignedByte(); b[i] = in.readUnsignedShort(); }
                    default -> throw new IOException("bad constant pool tag " + tag[i]);
                }
            }
            for (int i = 1; i < n; i++) {
                switch (tag[i]) {
                    case 7 -> r.addClassName((String) utf[a[i]]);
                    case 12 -> r.addDescriptor((String) utf[b[i]]);
                    case 16 -> r.addDescriptor((String) utf[a[i]]);
                    case 9, 10, 11 -> {
                        String owner = (String) utf[a[a[i]]];
                        int nat = b[i];
                        r.members.add(new MemberRef(tag[i], owner, (String) utf[a[nat]], (String) utf[b[nat]]));
                    }
                    default -> { }
                }
            }
            in.readUnsignedShort(); // access
            in.readUnsignedShort(); // this
            in.readUnsignedShort(); // super
            int interfaces = in.readUnsignedShort();
            for (int i = 0; i < interfaces; i++) in.readUnsignedShort();
            for (int kind = 0; kind < 2; kind++) { // fields, then methods
                int count = in.readUnsignedShort();
                for (int i = 0; i < count; i++) {
                    in.readUnsignedShort();
                    in.readUnsignedShort();
                    r.addDescriptor((String) utf[in.readUnsignedShort()]);
                    int attrs = in.readUnsignedShort();
                    for (int j = 0; j < attrs; j++) {
                        in.readUnsignedShort();
                        in.skipNBytes(in.readInt() & 0xffffffffL);
                    }
                }
            }
            return r;
        }

        void addClassName(String name) {
            if (name.startsWith("[")) addDescriptor(name);
            else classes.add(name);
        }

        void addDescriptor(String desc) {
            Matcher m = OBJECT_TYPE.matcher(desc);
            while (m.find()) classes.add(m.group(1));
        }
    }
}
