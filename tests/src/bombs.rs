//! Hostile components built by the tests themselves, byte by byte with `wasm-encoder`, for
//! attacks no Rust plugin compiles to: modules made to keep the compiler busy.
//!
//! None of them needs to be a valid redaction plugin: the host must stop them before (caps) or
//! while (deadline) compiling, which happens before it ever looks at their exports.

use wasm_encoder::{
    CodeSection, Component, Function, FunctionSection, Instruction, Module, ModuleSection,
    TypeSection, ValType,
};

/// A component around one core module of `functions` functions, each with `locals` i64 locals
/// and a body of about `body_bytes` bytes: long runs of arithmetic between locals picked
/// pseudo-randomly, inside nested blocks with conditional branches, so that many values are
/// live across many blocks (work for SSA construction and the register allocator).
pub fn compile_bomb(functions: u32, locals: u32, body_bytes: usize) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I64]);
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u32| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % u64::from(n.max(1))) as u32
    };
    for _ in 0..functions {
        funcs.function(0);
        let mut f = Function::new([(locals, ValType::I64)]);
        let mut depth = 0u32;
        while f.byte_len() < body_bytes {
            if depth < 64 && next(8) == 0 {
                f.instruction(&Instruction::Block(wasm_encoder::BlockType::Empty));
                depth += 1;
            }
            f.instruction(&Instruction::LocalGet(next(locals)));
            f.instruction(&Instruction::LocalGet(next(locals)));
            f.instruction(&Instruction::I64Mul);
            f.instruction(&Instruction::LocalGet(next(locals)));
            f.instruction(&Instruction::I64Add);
            f.instruction(&Instruction::LocalSet(next(locals)));
            if depth > 0 && next(4) == 0 {
                f.instruction(&Instruction::LocalGet(next(locals)));
                f.instruction(&Instruction::I32WrapI64);
                f.instruction(&Instruction::BrIf(next(depth)));
            }
            if depth > 0 && next(16) == 0 {
                f.instruction(&Instruction::End);
                depth -= 1;
            }
        }
        for _ in 0..depth {
            f.instruction(&Instruction::End);
        }
        f.instruction(&Instruction::LocalGet(0));
        f.instruction(&Instruction::End);
        code.function(&f);
    }
    wrap(types, funcs, code)
}

/// A component around one core module of `n` tiny functions (`i64.const 0`).
pub fn many_functions(n: u32) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I64]);
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    for _ in 0..n {
        funcs.function(0);
        let mut f = Function::new([]);
        f.instruction(&Instruction::I64Const(0));
        f.instruction(&Instruction::End);
        code.function(&f);
    }
    wrap(types, funcs, code)
}

fn wrap(types: TypeSection, funcs: FunctionSection, code: CodeSection) -> Vec<u8> {
    let mut module = Module::new();
    module.section(&types).section(&funcs).section(&code);
    let mut component = Component::new();
    component.section(&ModuleSection(&module));
    component.finish()
}

/// A copy of a working plugin component, changed as a test asks: the re-encoder behind
/// [`with_huge_tables`] and [`with_many_instances`].
struct Rewrite {
    /// Make the tables of the first core module start at this many elements, with no maximum.
    huge_tables: Option<u64>,
    /// Core modules copied so far.
    modules: u32,
}

impl wasm_encoder::reencode::Reencode for Rewrite {
    type Error = std::convert::Infallible;

    fn parse_table(
        &mut self,
        tables: &mut wasm_encoder::TableSection,
        table: wasmparser::Table<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        let mut ty = self.table_type(table.ty)?;
        // Only the first module: the plugin's own code. The modules after it are the WASI
        // adapter and its shims, whose tables are linked to each other.
        if let (Some(elements), 0) = (self.huge_tables, self.modules) {
            ty.minimum = ty.minimum.max(elements);
            ty.maximum = None;
        }
        match table.init {
            wasmparser::TableInit::RefNull => {
                tables.table(ty);
            }
            wasmparser::TableInit::Expr(e) => {
                tables.table_with_init(ty, &self.const_expr(e)?);
            }
        }
        Ok(())
    }
}

impl wasm_encoder::reencode::ReencodeComponent for Rewrite {
    fn parse_component_submodule(
        &mut self,
        component: &mut Component,
        parser: wasmparser::Parser,
        module: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        wasm_encoder::reencode::component_utils::parse_component_submodule(
            self, component, parser, module,
        )?;
        self.modules += 1;
        Ok(())
    }
}

impl Rewrite {
    /// Copies `plugin` into `component`, changed.
    fn copy(&mut self, plugin: &[u8], component: &mut Component) {
        use wasm_encoder::reencode::ReencodeComponent;
        self.parse_component(component, wasmparser::Parser::new(0), plugin)
            .expect("a plugin built by the tests re-encodes");
    }
}

/// `plugin` (a working plugin component) with the table of its own code made to start at
/// `elements` elements, with no maximum: a plugin that is fine in every other way but asks the
/// host for a table far past any honest one when it is instantiated.
pub fn with_huge_tables(plugin: &[u8], elements: u64) -> Vec<u8> {
    let mut component = Component::new();
    Rewrite {
        huge_tables: Some(elements),
        modules: 0,
    }
    .copy(plugin, &mut component);
    component.finish()
}

/// `plugin` (a working plugin component) with an empty core module added at its end and
/// instantiated `instances` times: a plugin that is fine in every other way but makes the
/// host create far more instances than any honest one when it is instantiated.
pub fn with_many_instances(plugin: &[u8], instances: u32) -> Vec<u8> {
    let mut component = Component::new();
    let mut rewrite = Rewrite {
        huge_tables: None,
        modules: 0,
    };
    rewrite.copy(plugin, &mut component);
    component.section(&ModuleSection(&Module::new()));
    let mut section = wasm_encoder::InstanceSection::new();
    for _ in 0..instances {
        section.instantiate(
            rewrite.modules,
            std::iter::empty::<(&str, wasm_encoder::ModuleArg)>(),
        );
    }
    component.section(&section);
    component.finish()
}
