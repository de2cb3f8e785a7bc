#!/usr/bin/env python3
# The Chronus build: engine library, tests, LV2 bundle, UI and tools.
import os

from waflib import Errors

APPNAME = 'chronus'
VERSION = '0.1.0'
top = '.'
out = 'build'

BUNDLE = 'chronus.lv2'
# The bundle is built into a folder of its own, build/lv2/, so that
# LV2_PATH=build/lv2 finds it and nothing else (lilv complains about every
# folder of a build tree that is not a bundle).
BUNDLE_DIR = 'lv2/' + BUNDLE

# Never add fast-math flags: they break NaN checks and leak FTZ into hosts.
# No contraction into fused multiply-adds either: a kind's SIMD lanes give
# the same bits as its scalar code only if both round every operation.
CFLAGS = ['-std=c11', '-O2', '-g', '-fPIC', '-ffp-contract=off',
          '-Wall', '-Wextra', '-Wpedantic', '-Wshadow',
          '-Wstrict-prototypes', '-Wmissing-prototypes',
          '-D_POSIX_C_SOURCE=200809L', '-D_DEFAULT_SOURCE']

PACKAGES = [('lv2', 'LV2'), ('lilv-0', 'LILV'), ('serd-0', 'SERD'),
            ('sord-0', 'SORD'), ('sratom-0', 'SRATOM'),
            ('sndfile', 'SNDFILE'), ('cairo', 'CAIRO'), ('x11', 'X11'),
            ('pangocairo', 'PANGOCAIRO'), ('xtst', 'XTST'),
            ('liblo', 'LIBLO')]

# Test programs that also need plugin sources (the OSC server and decoder).
PLUGIN_SOURCES = {
    'test_osc': ['plugin/osc.c', 'plugin/osc_map.c'],
}


def options(opt):
    opt.load('compiler_c')
    g = opt.add_option_group('Chronus options')
    g.add_option('--rtsan', action='store_true', default=False,
                 help='build with RealtimeSanitizer (clang >= 20, e.g. CC=clang-22)')
    g.add_option('--sanitize', default='',
                 help='build with these sanitizers, e.g. address,undefined '
                      '(clang-22; UB aborts, so a test fails on it)')
    g.add_option('--werror', action='store_true', default=False,
                 help='treat compiler warnings as errors')
    g.add_option('--lv2dir', default=None,
                 help='where to install the bundle, e.g. ~/.lv2 '
                 '[default: ${LIBDIR}/lv2, i.e. PREFIX/lib/lv2]')


def configure(conf):
    conf.load('compiler_c')
    for pkg, store in PACKAGES:
        conf.check_cfg(package=pkg, uselib_store=store,
                       args=['--cflags', '--libs'])
    # Loudness (BS.1770) for the sound tests of the factory bank only:
    # the plugin builds without it (test_sound is then not built, which
    # test/run-tests reports as a failure).
    conf.check_cfg(package='libebur128', uselib_store='EBUR128',
                   args=['--cflags', '--libs'], mandatory=False)
    conf.check_cfg(package='smf', uselib_store='SMF',
                   args=['--cflags', '--libs'], mandatory=False)
    # Only for tools/chronus-midi-send (a JACK MIDI client).
    conf.check_cfg(package='jack', uselib_store='JACK',
                   args=['--cflags', '--libs'], mandatory=False)
    conf.check_cc(lib='m', uselib_store='M')
    conf.check_cc(lib='dl', uselib_store='DL')
    conf.env.CFLAGS_PTHREAD = ['-pthread']
    conf.env.LINKFLAGS_PTHREAD = ['-pthread']

    # Ours first, so that CFLAGS from the environment can override them.
    # -fvect-cost-model is GCC's; clang's vectoriser has its own cost model.
    gcc_only = ['-fvect-cost-model=cheap'] if conf.env.CC_NAME == 'gcc' else []
    conf.env.CFLAGS = CFLAGS + gcc_only + conf.env.CFLAGS
    if conf.options.werror:
        conf.env.append_value('CFLAGS', ['-Werror'])
    if conf.options.rtsan:
        rt = ['-fsanitize=realtime']
        conf.check_cc(cflags=rt, linkflags=rt, msg='Checking for -fsanitize=realtime')
        conf.env.append_value('CFLAGS', rt)
        conf.env.append_value('LINKFLAGS', rt)
    conf.env.RTSAN = bool(conf.options.rtsan)
    conf.env.VERSION = VERSION  # in the bundle's Turtle (make_plugin_ttl)
    if conf.options.sanitize:
        san = ['-fsanitize=' + conf.options.sanitize, '-fno-omit-frame-pointer']
        if 'undefined' in conf.options.sanitize:
            san.append('-fno-sanitize-recover=undefined')
        conf.check_cc(cflags=san, linkflags=san,
                      msg='Checking for -fsanitize=' + conf.options.sanitize)
        conf.env.append_value('CFLAGS', san)
        conf.env.append_value('LINKFLAGS', san)
    conf.env.SANITIZE = conf.options.sanitize

    conf.env.LV2DIR = (os.path.abspath(os.path.expanduser(conf.options.lv2dir))
                       if conf.options.lv2dir
                       else os.path.join(conf.env.LIBDIR, 'lv2'))
    conf.msg('RealtimeSanitizer', 'yes' if conf.env.RTSAN else 'no')
    conf.msg('Sanitizers', conf.options.sanitize or 'none')
    conf.msg('Warnings as errors', 'yes' if conf.options.werror else 'no')
    conf.msg('LV2 bundle install dir', conf.env.LV2DIR)


def build(bld):
    glob = bld.path.ant_glob
    bundle_dir = os.path.join(bld.bldnode.abspath(), BUNDLE_DIR)
    install_bundle = '${LV2DIR}/' + BUNDLE
    defines = ['CH_VERSION="%s"' % VERSION,
               'CH_BUNDLE_DIR="%s"' % bundle_dir,
               'CH_SOURCE_DIR="%s"' % bld.srcnode.abspath()]
    if bld.env.SANITIZE:
        # ASan/UBSan code runs several times slower: see LOAD_LIMIT.
        # RTSan only watches calls: its code runs at full speed.
        defines.append('CH_SANITIZED=1')

    def includes(*dirs):
        return [d for d in dirs if bld.path.find_dir(d)]

    def so_name(tg):
        # LV2 binaries carry no "lib" prefix.
        tg.env.cshlib_PATTERN = '%s.so'
        return tg

    # Hide the engine's symbols inside plugin binaries; -z defs catches
    # missing symbols at link time (not with sanitizers, whose runtime the
    # host executable provides).
    so_linkflags = ['-Wl,--exclude-libs,ALL']
    if not bld.env.RTSAN and not bld.env.SANITIZE:
        so_linkflags.append('-Wl,-z,defs')

    # Fixed idx values keep object names (foo.c.<idx>.o) stable: by default
    # waf numbers task generators in order, so adding one test would rename
    # and rebuild the objects of all the others.
    engine_src = glob('src/*.c src/modules/*.c')
    engine = ['chronus_engine'] if engine_src else []
    if engine_src:
        bld.stlib(source=engine_src,
                  target='chronus_engine',
                  idx=1,
                  includes=includes('src'),
                  export_includes=includes('src'),
                  defines=defines,
                  use=['SERD', 'SORD', 'M'],
                  install_path=None)

    # The protocol module (plugin/protocol.c) is the one encoder and
    # checked decoder of Chronus messages: the plugin builds it in, and the
    # tests and tools link it to speak the same protocol.
    protocol = []
    if bld.path.find_node('plugin/protocol.c'):
        bld.objects(source=['plugin/protocol.c'],
                    target='chronus_protocol',
                    idx=7,
                    includes=includes('src', 'plugin'),
                    use=['LV2', 'M'])
        protocol = ['chronus_protocol']

    # The UI's logic without X (layout, hit testing, values, the client
    # state), linked into the UI and into its unit tests.
    ui_logic_src = [glob('ui/scene.c'), glob('ui/client.c'), glob('ui/select.c')]
    ui_logic_src = [n for l in ui_logic_src for n in l]
    ui_logic = ['chronus_ui_logic'] if ui_logic_src else []
    if ui_logic_src:
        bld.stlib(source=ui_logic_src,
                  target='chronus_ui_logic',
                  idx=9,
                  includes=includes('src', 'ui'),
                  export_includes=includes('ui'),
                  defines=defines,
                  cflags=['-fvisibility=hidden'],
                  use=engine + ['M'],
                  install_path=None)

    # tools/lib/*.c is the LV2 hosting that the tools, the plugin tests
    # (test/host.c builds on it) and the UI test host share, built once.
    lv2host = []
    if glob('tools/lib/*.c'):
        bld.objects(source=glob('tools/lib/*.c'),
                    target='chronus_lv2host',
                    idx=6,
                    includes=includes('src', 'plugin', 'tools'),
                    defines=defines,
                    use=protocol + ['LILV', 'PTHREAD', 'M'])
        lv2host = ['chronus_lv2host']

    # test/*.c other than test_*.c are helpers (e.g. rtcheck.c, the
    # allocator/syscall interposer) linked into every test program.
    test_use = lv2host + ui_logic + engine + protocol + ['M', 'SERD', 'SORD',
                                                         'LILV', 'PTHREAD',
                                                         'DL', 'EBUR128']
    helpers = [n for n in glob('test/*.c') if not n.name.startswith('test_')]
    if helpers:
        bld.objects(source=helpers,
                    target='chronus_test_helpers',
                    idx=2,
                    includes=includes('src', 'plugin', 'test', 'tools'),
                    defines=defines,
                    use=test_use)
        test_use = ['chronus_test_helpers'] + test_use

    for src in glob('test/test_*.c'):
        name = os.path.splitext(src.name)[0]
        if name == 'test_sound' and not bld.env.LIB_EBUR128:
            continue
        bld.program(source=[src] + PLUGIN_SOURCES.get(name, []),
                    target='test/' + name,
                    idx=2,
                    includes=includes('src', 'plugin', 'test', 'ui', 'tools'),
                    defines=defines,
                    use=test_use + ['LIBLO', 'LV2'],
                    install_path=None)

    plugin_src = glob('plugin/*.c')
    if plugin_src:
        so_name(bld.shlib(source=plugin_src,
                          target=BUNDLE_DIR + '/chronus',
                          idx=3,
                          includes=includes('src', 'plugin'),
                          defines=defines,
                          cflags=['-fvisibility=hidden'],
                          linkflags=so_linkflags,
                          use=engine + ['LV2', 'LIBLO', 'PTHREAD', 'M'],
                          install_path=install_bundle))

    # The manifest is ours plus one entry per factory preset (below).
    bank = glob('presets/bank/*.ttl')
    for ttl in glob('ttl/*.ttl'):
        if ttl.name == 'manifest.ttl':
            bld(rule=make_manifest, source=[ttl] + bank,
                target=BUNDLE_DIR + '/manifest.ttl', install_path=install_bundle)
        elif ttl.name == 'chronus.ttl':
            bld(rule=make_plugin_ttl, source=[ttl] + bank, vars=['VERSION'],
                target=BUNDLE_DIR + '/chronus.ttl', install_path=install_bundle)
        else:
            bld(features='subst', source=ttl, target=BUNDLE_DIR + '/' + ttl.name,
                LIB_EXT='.so', install_path=install_bundle)

    ui_src = [n for n in glob('ui/*.c') if n not in ui_logic_src]
    if ui_src:
        # The UI speaks to the plugin through the same protocol module.
        ui_src += glob('plugin/protocol.c')
        so_name(bld.shlib(source=ui_src,
                          target=BUNDLE_DIR + '/chronus_ui',
                          idx=4,
                          includes=includes('src', 'plugin', 'ui'),
                          defines=defines,
                          cflags=['-fvisibility=hidden'],
                          linkflags=so_linkflags,
                          use=ui_logic + engine + ['PANGOCAIRO', 'CAIRO',
                                                   'X11', 'LV2', 'M'],
                          install_path=install_bundle))

    # presets/bank/NN-name.ttl are the factory patches: program NN of the
    # bank, copied into the bundle for the plugin to load, and wrapped as
    # LV2 presets (presets.ttl) for hosts to list.
    for patch in bank:
        bld(features='subst', is_copy=True, source=patch,
            target=BUNDLE_DIR + '/bank/' + patch.name,
            install_path=install_bundle + '/bank')
    if bank:
        bld(rule=make_presets, source=bank, target=BUNDLE_DIR + '/presets.ttl',
            install_path=install_bundle)

    # The UI test host: embeds the real UI in a window of ours, wired to a
    # real plugin instance, and drives it with XTest (test/e2e-ui.sh).
    ui_host_src = glob('test/uihost/*.c')
    if ui_host_src and ui_src:
        bld.program(source=ui_host_src,
                    target='test/ui-host',
                    idx=8,
                    includes=includes('src', 'plugin', 'ui', 'tools'),
                    defines=defines,
                    use=lv2host + ui_logic + engine + protocol +
                        ['LILV', 'SERD', 'SORD', 'CAIRO', 'X11', 'XTST',
                         'LV2', 'M', 'DL', 'PTHREAD'],
                    install_path=None)

    tool_use = engine + protocol + ['LILV', 'SERD', 'SORD', 'SNDFILE', 'M',
                                    'PTHREAD', 'DL']
    if bld.env.LIB_SMF:
        tool_use.append('SMF')
    tool_use = lv2host + tool_use
    for src in glob('tools/*.c'):
        if src.name == 'chronus-midi-send.c':
            continue
        bld.program(source=[src],
                    target='tools/' + os.path.splitext(src.name)[0],
                    idx=5,
                    includes=includes('src', 'plugin', 'tools'),
                    defines=defines + (['CH_HAVE_SMF=1'] if bld.env.LIB_SMF else []),
                    use=tool_use,
                    install_path='${BINDIR}')
    midi_send = bld.path.find_node('tools/chronus-midi-send.c')
    if midi_send and bld.env.LIB_JACK:
        bld.program(source=[midi_send, 'tools/lib/midi.c'],
                    target='tools/chronus-midi-send',
                    idx=7,
                    includes=includes('tools'),
                    use=['JACK', 'M', 'PTHREAD'],
                    install_path='${BINDIR}')


PRESET_PREFIXES = """@prefix ch:    <urn:chronus:> .
@prefix lv2:   <http://lv2plug.in/ns/lv2core#> .
@prefix pset:  <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs:  <http://www.w3.org/2000/01/rdf-schema#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .
"""


def program_number(node):
    """NN of presets/bank/NN-name.ttl."""
    try:
        return int(node.name[:2])
    except ValueError:
        raise Errors.WafError('%s: bank files are named NN-name.ttl' % node)


def bank_programs(bank):
    """The bank's files by program number, which must run 0, 1, ... N-1:
    the program port's range is the bank."""
    programs = sorted(bank, key=program_number)
    numbers = [program_number(n) for n in programs]
    if numbers != list(range(len(programs))):
        raise Errors.WafError('presets/bank/: programs %s are not 00..%02d'
                              % (numbers, len(programs) - 1))
    return programs


def preset_info(node):
    """URI, label and comment of a bank patch, from its file name and its
    first comment line ("# Label: what it is ...").  The label starts with
    the program number: hosts that sort presets by label (jalv.gtk3 does)
    list them in program order."""
    name = node.name[3:-4]  # NN-name.ttl
    label, comment = name.capitalize(), ''
    lines = node.read().splitlines()
    for i, line in enumerate(lines):
        if line.startswith('# ') and ':' in line:
            label, comment = [x.strip() for x in line[2:].split(':', 1)]
            for more in lines[i + 1:]:
                if not more.startswith('# '):
                    break
                comment += ' ' + more[2:].strip()
            break
    label = '%02d %s' % (program_number(node), label)
    return 'urn:chronus:preset:' + name, label, comment[:1].upper() + comment[1:]


def turtle_string(text):
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'


def make_manifest(task):
    text = task.inputs[0].read().replace('@LIB_EXT@', '.so')
    for node in task.inputs[1:]:
        uri = preset_info(node)[0]
        text += ('\n<%s>\n\ta pset:Preset ;\n\tlv2:appliesTo <urn:chronus:synth> ;'
                 '\n\trdfs:seeAlso <presets.ttl> .\n' % uri)
    if task.inputs[1:] and 'pset:' not in task.inputs[0].read():
        text = '@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n' + text
    task.outputs[0].write(text)


def make_plugin_ttl(task):
    """ttl/chronus.ttl with the version, and the program port's range and
    names from the bank."""
    programs = bank_programs(task.inputs[1:])
    version = task.env.VERSION or VERSION  # a build configured before it
    _, minor, micro = [int(x) for x in version.split('.')]
    points = ' , '.join('[\n\t\t\trdfs:label %s ;\n\t\t\trdf:value %d\n\t\t]'
                        % (turtle_string(preset_info(n)[1]), program_number(n))
                        for n in programs)
    text = task.inputs[0].read()
    for key, value in (('LIB_EXT', '.so'),
                       ('LV2_MINOR_VERSION', str(minor)),
                       ('LV2_MICRO_VERSION', str(micro)),
                       ('PROGRAM_MAXIMUM', str(max(len(programs) - 1, 0))),
                       ('PROGRAM_SCALE_POINTS', points or '[ ]')):
        text = text.replace('@%s@' % key, value)
    task.outputs[0].write(text)


def make_presets(task):
    """Each preset carries its patch as the plugin state ch:patch, and its
    program number as the value of the program port, so that a host shows
    what plays after loading it (and in the state, ch:program, so that the
    port reaching it after the state is restored loads nothing again)."""
    out = [PRESET_PREFIXES]
    for node in bank_programs(task.inputs):
        uri, label, comment = preset_info(node)
        patch = node.read()
        out.append('\n<%s>\n\ta pset:Preset ;\n\tlv2:appliesTo <urn:chronus:synth> ;'
                   '\n\trdfs:label %s ;\n\trdfs:comment %s ;\n\tlv2:port [\n'
                   '\t\tlv2:symbol "program" ;\n\t\tpset:value %d\n\t] ;\n'
                   '\tstate:state [\n\t\tch:program %d ;\n\t\tch:patch %s\n\t] .\n'
                   % (uri, turtle_string(label), turtle_string(comment),
                      program_number(node), program_number(node),
                      turtle_string(patch).replace('\n', '\\n')))
    task.outputs[0].write(''.join(out))
